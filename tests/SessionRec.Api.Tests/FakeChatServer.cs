namespace SessionRec.Api.Tests;

using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using SessionRec.Silo.Embedded;

/// <summary>
/// An OpenAI-compatible chat-completions endpoint on loopback: it speaks the real protocol (POST
/// /v1/chat/completions, the chat.completion JSON), records every request, and answers as the test says —
/// normally, late, with a 500, with text that is not JSON, or as a model that obeyed an injected instruction.
/// </summary>
public sealed class FakeChatServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private FakeChatServer(WebApplication app, int port)
    {
        _app = app;
        Endpoint = new Uri($"http://127.0.0.1:{port}/v1");
    }

    public Uri Endpoint { get; }

    public List<JsonElement> Requests { get; } = [];

    /// <summary>What the next requests get: (delay, status, assistant content).</summary>
    public Func<JsonElement, (TimeSpan Delay, int Status, string Content)> Answer { get; set; } = _ => (TimeSpan.Zero, 200, """{"suggestions": []}""");

    public static async Task<FakeChatServer> StartAsync()
    {
        var port = EmbeddedGarnet.FreeLoopbackPort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var server = new FakeChatServer(app, port);
        app.MapPost("/v1/chat/completions", async (HttpRequest request) =>
        {
            var body = await JsonSerializer.DeserializeAsync<JsonElement>(request.Body);
            lock (server.Requests)
            {
                server.Requests.Add(body);
            }

            var (delay, status, content) = server.Answer(body);
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay);
            }

            if (status != 200)
            {
                return Results.Json(new { error = new { message = "upstream failure", type = "server_error" } }, statusCode: status);
            }

            return Results.Json(new
            {
                id = "chatcmpl-test",
                @object = "chat.completion",
                created = 1_700_000_000,
                model = body.GetProperty("model").GetString(),
                choices = new[] { new { index = 0, message = new { role = "assistant", content }, finish_reason = "stop" } },
                usage = new { prompt_tokens = 10, completion_tokens = 10, total_tokens = 20 },
            });
        });
        await app.StartAsync();
        return server;
    }

    /// <summary>The text of the request's message with this role.</summary>
    public static string Message(JsonElement request, string role) =>
        request.GetProperty("messages").EnumerateArray().Where(m => m.GetProperty("role").GetString() == role)
            .Select(m => m.GetProperty("content") is { ValueKind: JsonValueKind.String } c ? c.GetString()! : string.Join("", m.GetProperty("content").EnumerateArray().Select(p => p.GetProperty("text").GetString())))
            .Single();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
