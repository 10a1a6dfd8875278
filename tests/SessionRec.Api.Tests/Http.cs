namespace SessionRec.Api.Tests;

using System.Net.Http.Json;
using System.Text.Json;
using SessionRec.Api.Hosting;

/// <summary>JSON over HTTP the way clients see it (snake_case).</summary>
public static class Http
{
    public static readonly JsonSerializerOptions Json = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        ApiHosting.ConfigureJson(options);
        options.UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Skip;
        return options;
    }

    public static Task<HttpResponseMessage> PostJson(this HttpClient client, string url, object body) =>
        client.PostAsJsonAsync(url, body, Json);

    public static Task<HttpResponseMessage> PutJson(this HttpClient client, string url, object body) =>
        client.PutAsJsonAsync(url, body, Json);

    public static async Task<T> Read<T>(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<T>(Json))!;

    public static async Task<JsonElement> ReadProblem(this HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public static object Item(string id, string? brand = null, bool available = true) =>
        new { id, title = $"Item {id}", brand, categories = new[] { "Makeup", "Lips" }, available };

    public static object View(string eventId, string user, string item, string type = "view", DateTimeOffset? at = null) =>
        new { event_id = eventId, user_id = user, type, item_id = item, timestamp = at ?? DateTimeOffset.UtcNow };
}
