namespace SessionRec.Training;

/// <summary>Proves the native libtorch loads (see build/TorchSharpGlibcxx.targets for why it might not).</summary>
public static class TorchCheck
{
    public static float Run()
    {
        using var a = TorchSharp.torch.ones(2, 3);
        using var b = TorchSharp.torch.ones(3, 2);
        using var c = a.matmul(b);
        return c.sum().item<float>();
    }
}
