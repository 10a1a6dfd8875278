namespace SessionRec.Training.Tests;

public class TorchLoadTests
{
    [Fact]
    public void Native_torch_loads_and_multiplies() => Assert.Equal(12f, TorchCheck.Run());
}
