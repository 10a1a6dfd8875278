namespace SessionRec.EventContract.Tests;

public sealed class EventRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static EventFields View(string? eventId = "e1", string? userId = "u1", string? itemId = "i1", DateTimeOffset? at = null, string? type = "view", string? query = null, int? position = null) =>
        new(eventId, userId, null, type, itemId, query, null, position, at);

    private static string? Problem(EventFields e) => EventRules.Problem(e, Now, EventWindow.Default);

    [Fact]
    public void A_complete_event_is_valid_and_logged_in_utc()
    {
        var local = new DateTimeOffset(2026, 12, 1, 13, 0, 0, TimeSpan.FromHours(2));
        Assert.Null(Problem(View(at: local)));
        Assert.Equal(TimeSpan.Zero, EventRules.Timestamp(View(at: local), Now).Offset);
        Assert.Equal(local, EventRules.Timestamp(View(at: local), Now));
        Assert.Equal(Now, EventRules.Timestamp(View(), Now));
    }

    [Theory]
    [InlineData(null, "u1", "i1", "view", "event_id is required.")]
    [InlineData("e1", "a/b", "i1", "view", "user_id must not contain '/'")]
    [InlineData("e1", "u1", null, "click", "A click event needs an item: item_id is required.")]
    [InlineData("e1", "u1", "..", "impression", "An impression event needs an item: item_id must not be \".\" or \"..\"")]
    [InlineData("e1", "u1", "i1", "like", "Unknown event type 'like'")]
    [InlineData("e1", "u1", "i1", null, "type is required")]
    [InlineData("e1", "u1", null, "search", "A search event needs a non-empty query.")]
    [InlineData("e1", "u1", null, "suggestion_click", "A suggestion_click event needs the clicked suggestion as query.")]
    public void A_bad_event_is_refused_naming_the_field(string? eventId, string? userId, string? itemId, string? type, string expected)
    {
        var problem = Problem(View(eventId, userId, itemId, type: type));
        Assert.NotNull(problem);
        Assert.StartsWith(expected, problem);
    }

    [Fact]
    public void A_served_impressions_id_is_refused_and_ids_that_only_resemble_one_are_not()
    {
        var recommendation = ServedIds.Impression(ServedIds.RecommendationRequest());
        var suggestion = ServedIds.Impression(ServedIds.SuggestionRequest());
        Assert.True(ServedIds.IsImpression(recommendation));
        Assert.True(ServedIds.IsImpression(suggestion));
        Assert.StartsWith($"event_id '{recommendation}' is reserved", Problem(View(eventId: recommendation)));
        Assert.StartsWith("event_id", Problem(View(eventId: suggestion, type: "impression")));

        // A client's own impression ids, and near misses of the form, stay theirs.
        var hex = recommendation["imp-r-".Length..];
        foreach (var id in new[] { "imp-1", "imp-r-" + hex[..^1], "imp-r-" + hex + "0", "imp-x-" + hex, "imp-r-" + hex.ToUpperInvariant(), "imp-r-" + hex[..^1] + "g", "IMP-r-" + hex, "imp-r" + hex + "0" })
        {
            Assert.False(ServedIds.IsImpression(id), id);
            Assert.Null(Problem(View(eventId: id)));
        }
    }

    [Fact]
    public void Positions_and_times_are_bounded()
    {
        Assert.Equal("position must be between 0 and 10000.", Problem(View(position: -1)));
        Assert.Null(Problem(View(position: 10_000)));
        Assert.StartsWith("timestamp is more than", Problem(View(at: Now.AddMinutes(6))));
        Assert.Null(Problem(View(at: Now.AddMinutes(4))));
        Assert.StartsWith("timestamp is older than 7 days: the click log remembers event ids no longer", Problem(View(at: Now.AddDays(-8))));
        Assert.Null(Problem(View(at: Now.AddDays(-6.9))));
        Assert.Null(EventRules.Problem(View(at: Now.AddDays(-31)), Now, EventWindow.Default with { MaxAge = TimeSpan.FromDays(60) }));
    }

    [Fact]
    public void The_age_limit_never_exceeds_the_dedup_window()
    {
        Assert.Equal(TimeSpan.FromDays(7), EventWindow.For(TimeSpan.FromDays(30), TimeSpan.FromMinutes(5), TimeSpan.FromDays(7)).MaxAge);
        Assert.Equal(TimeSpan.FromDays(2), EventWindow.For(TimeSpan.FromDays(2), TimeSpan.FromMinutes(5), TimeSpan.FromDays(7)).MaxAge);
    }

    [Fact]
    public void Ids_and_text_refuse_control_characters_and_broken_utf16()
    {
        Assert.Equal("event_id contains a control character.", Problem(View(eventId: "e\u0001")));
        Assert.Equal("user_id contains an unpaired surrogate (invalid UTF-16).", Problem(View(userId: "u\ud800")));
        Assert.Null(Problem(View(userId: "u😀")));
        Assert.Equal("query contains a control character.", Problem(View(type: "search", itemId: null, query: "shoes\u0007")));
        Assert.Null(Problem(View(type: "search", itemId: null, query: "red\tshoes")));
        Assert.Equal($"event_id is longer than {FieldRules.MaxIdLength} characters.", Problem(View(eventId: new string('x', FieldRules.MaxIdLength + 1))));
    }
}
