namespace SessionRec.Silo.Tests;

using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using SessionRec.Abstractions.Events;
using SessionRec.Abstractions.Sessions;
using SessionRec.Silo.Sessions;

public class SessionStateFormatTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 9, 0, 0, TimeSpan.Zero);

    internal static UserSessionState Sample()
    {
        SessionEvent Event(int i) => new($"e{i}", i % 3 == 0 ? EventType.Search : EventType.View, i % 3 == 0 ? null : $"item-{i % 5}", i % 3 == 0 ? "lipstick" : null, T0.AddMinutes(i));
        var current = new SessionSummary("s2", T0.AddMinutes(40), T0.AddMinutes(49), [.. Enumerable.Range(40, 10).Select(Event)]);
        var earlier = new SessionSummary("s1", T0, T0.AddMinutes(9), [.. Enumerable.Range(0, 10).Select(Event)]);
        return new UserSessionState { Current = current, Recent = [earlier], RecentEventIds = [.. Enumerable.Range(0, 20).Select(i => $"e{i}")], AppliedThrough = 1234 };
    }

    internal static Knowledge.UserKnowledgeState KnowledgeSample()
    {
        // One EntityRef instance named by several records, and the same string instances in many places.
        var opi = new Abstractions.Knowledge.EntityRef("brand:opi", "opi");
        var red = new Abstractions.Knowledge.EntityRef("phrase:red", "red");
        return new Knowledge.UserKnowledgeState
        {
            Stream = [.. Enumerable.Range(0, 6).Select(i => new Abstractions.Knowledge.KnowledgeRecord(T0.AddMinutes(i), i % 2 == 0 ? "viewed" : "searched", i % 2 == 0 ? "OPI Red" : "red nail polish", i % 2 == 0 ? "item-1" : null, i % 3 == 0 ? [opi, red] : [red]))],
            Aggregates =
            [
                new("brand:opi", "opi", [new("viewed", 2, T0, T0.AddMinutes(4))]),
                new("phrase:red", "red", [new("searched", 3, T0.AddMinutes(1), T0.AddMinutes(5)), new("viewed", 3, T0, T0.AddMinutes(4))]),
            ],
            AppliedThrough = 77,
        };
    }

    // Written by the build before a session's events and sessions stopped being reference-tracked (afcb7e0): stored
    // states of that format must still read back whole. The knowledge state's records stay tracked: a state whose
    // records share an entity instance (as this sample's do) would no longer read if they were not.
    private const string SessionStateBefore = "ICDoQAVzMiGAAFjx5sVO3wiBAAAAAAAAAADgIYAAzs4ox07fCIEAAAAAAAAAAOAxAUZ2PtFvUmVhZE9ubHlMaXN0SW50ZXJmYWNlQ29kZWNgMVtbU2Vzc2lvblJlYy5TZXNzaW9uRXZlbnRdXQAVIehAB2U0MAEBQQ1pdGVtLTDBASGAAFjx5sVO3wiBAAAAAAAAAADg4CDoQAdlNDEBAUENaXRlbS0xwQEhgACetArGTt8IgQAAAAAAAAAA4OAg6EAHZTQyARHBAUERbGlwc3RpY2shgADkdy7GTt8IgQAAAAAAAAAA4OAg6EAHZTQzAQFBDWl0ZW0tM8EBIYAAKjtSxk7fCIEAAAAAAAAAAODgIOhAB2U0NAEBQQ1pdGVtLTTBASGAAHD+dcZO3wiBAAAAAAAAAADg4CDoQAdlNDUBEcEBwUEhgAC2wZnGTt8IgQAAAAAAAAAA4OAg6EAHZTQ2AQFBDWl0ZW0tMcEBIYAA/IS9xk7fCIEAAAAAAAAAAODgIOhAB2U0NwEBQQ1pdGVtLTLBASGAAEJI4cZO3wiBAAAAAAAAAADg4CDoQAdlNDgBEcEBwUEhgACICwXHTt8IgQAAAAAAAAAA4OAg6EAHZTQ5AQFBDWl0ZW0tNMEBIYAAzs4ox07fCIEAAAAAAAAAAODg4OAhAAMh6EAFczEhgABoblDATt8IgQAAAAAAAAAA4CGAAN5LksFO3wiBAAAAAAAAAADgOQMAFSHoQAVlMAERwQHBQSGAAGhuUMBO3wiBAAAAAAAAAADg4CDoQAVlMQEBQQ1pdGVtLTHBASGAAK4xdMBO3wiBAAAAAAAAAADg4CDoQAVlMgEBQQ1pdGVtLTLBASGAAPT0l8BO3wiBAAAAAAAAAADg4CDoQAVlMwERwQHBQSGAADq4u8BO3wiBAAAAAAAAAADg4CDoQAVlNAEBQQ1pdGVtLTTBASGAAIB738BO3wiBAAAAAAAAAADg4CDoQAVlNQEBQQ1pdGVtLTDBASGAAMY+A8FO3wiBAAAAAAAAAADg4CDoQAVlNgERwQHBQSGAAAwCJ8FO3wiBAAAAAAAAAADg4CDoQAVlNwEBQQ1pdGVtLTLBASGAAFLFSsFO3wiBAAAAAAAAAADg4CDoQAVlOAEBQQ1pdGVtLTPBASGAAJiIbsFO3wiBAAAAAAAAAADg4CDoQAVlOQERwQHBQSGAAN5LksFO3wiBAAAAAAAAAADg4ODg4CEAKUEFZTBABWUxQAVlMkAFZTNABWU0QAVlNUAFZTZABWU3QAVlOEAFZTlAB2UxMEAHZTExQAdlMTJAB2UxM0AHZTE0QAdlMTVAB2UxNkAHZTE3QAdlMThAB2UxOeABkibg";

    private const string KnowledgeStateBefore = "ICAADSHoIIAAaG5QwE7fCIEAAAAAAAAAAOBBDXZpZXdlZEEPT1BJIFJlZEENaXRlbS0xMQGQRHSnaVJlYWRPbmx5TGlzdEludGVyZmFjZUNvZGVjYDFbW1Nlc3Npb25SZWMuRW50aXR5UmVmXV0ABSHoQBNicmFuZDpvcGlBB29waeAg6EAVcGhyYXNlOnJlZEEHcmVk4ODgIOgggACuMXTATt8IgQAAAAAAAAAA4EERc2VhcmNoZWRBH3JlZCBuYWlsIHBvbGlzaMEBOQMAA8Eh4OAg6CCAAPT0l8BO3wiBAAAAAAAAAADgwRHBE8EVOQMAA8Eh4OAg6CCAADq4u8BO3wiBAAAAAAAAAADgwS/BMcEBOQMABcEbwCHg4CDoIIAAgHvfwE7fCIEAAAAAAAAAAODBEcETwRU5AwADwSHg4CDoIIAAxj4DwU7fCIEAAAAAAAAAAODBL8ExwQE5AwADwSHg4OAhAAUh6MAdwR8xAWLrNfxtUmVhZE9ubHlMaXN0SW50ZXJmYWNlQ29kZWNgMVtbU2Vzc2lvblJlYy5Tb3VyY2VDb3VudF1dAAMh6MARAQkhgABoblDATt8IgQAAAAAAAAAA4CGAAIB738BO3wiBAAAAAAAAAADg4ODgIOjAI8ElOQUABSHowC8BDSGAAK4xdMBO3wiBAAAAAAAAAADgIYAAxj4DwU7fCIEAAAAAAAAAAODgIOjAEQENIYAAaG5QwE7fCIEAAAAAAAAAAOAhgACAe9/ATt8IgQAAAAAAAAAA4ODg4OABagLg";

    [Fact]
    public void States_written_before_reference_tracking_was_suppressed_read_back_whole()
    {
        using var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer>();
        Assert.Equal(Json(Sample()), Json(serializer.Deserialize<UserSessionState>(Convert.FromBase64String(SessionStateBefore))));
        Assert.Equal(Json(KnowledgeSample()), Json(serializer.Deserialize<Knowledge.UserKnowledgeState>(Convert.FromBase64String(KnowledgeStateBefore))));
    }

    [Fact]
    public void States_round_trip()
    {
        using var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer>();
        Assert.Equal(Json(Sample()), Json(serializer.Deserialize<UserSessionState>(serializer.SerializeToArray(Sample()))));
        Assert.Equal(Json(KnowledgeSample()), Json(serializer.Deserialize<Knowledge.UserKnowledgeState>(serializer.SerializeToArray(KnowledgeSample()))));
    }

    private static string Json<T>(T value) => System.Text.Json.JsonSerializer.Serialize(value);
}
