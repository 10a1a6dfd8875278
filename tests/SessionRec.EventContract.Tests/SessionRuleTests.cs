namespace SessionRec.EventContract.Tests;

public sealed class SessionRuleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Inactivity = TimeSpan.FromMinutes(30);

    [Fact]
    public void The_first_event_starts_a_session()
        => Assert.True(SessionRule.StartsNew(T0, null, null, null, Inactivity));

    [Fact]
    public void A_gap_longer_than_the_timeout_starts_one_and_a_gap_of_exactly_it_does_not()
    {
        Assert.False(SessionRule.StartsNew(T0.AddMinutes(30), null, T0, null, Inactivity));
        Assert.True(SessionRule.StartsNew(T0.AddMinutes(31), null, T0, "A", Inactivity));
        Assert.False(SessionRule.StartsNew(T0.AddMinutes(-40), null, T0, null, Inactivity)); // late, not a gap
    }

    [Fact]
    public void A_named_session_id_other_than_the_sessions_starts_one_and_no_id_continues()
    {
        Assert.True(SessionRule.StartsNew(T0.AddMinutes(1), "A", T0, null, Inactivity)); // started without an id
        Assert.True(SessionRule.StartsNew(T0.AddMinutes(1), "B", T0, "A", Inactivity));
        Assert.False(SessionRule.StartsNew(T0.AddMinutes(1), "A", T0, "A", Inactivity));
        Assert.False(SessionRule.StartsNew(T0.AddMinutes(1), null, T0, "A", Inactivity));
    }
}
