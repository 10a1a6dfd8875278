namespace SessionRec.Cli;

using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

/// <summary>The CLI's HTTP client for a running SessionRec service (snake_case JSON, bearer key).</summary>
public sealed class ServiceClient : IDisposable
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly HttpClient _http;

    public ServiceClient(string url, string key)
        : this(new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(2) }, key)
    {
    }

    /// <summary>Over a given client (its BaseAddress set), e.g. one that talks to an in-memory test server.</summary>
    public ServiceClient(HttpClient http, string key)
    {
        _http = http;
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
    }

    /// <summary>Sends a request, retrying 429 and 503 after the Retry-After the service names.</summary>
    public async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var request = new HttpRequestMessage(method, path);
            if (body is not null)
            {
                request.Content = JsonContent.Create(body, options: Json);
            }

            using var response = await _http.SendAsync(request, cancellationToken);
            if ((int)response.StatusCode is 429 or 503 && attempt < 30)
            {
                await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1), cancellationToken);
                continue;
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"{method} {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
            }

            return (await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken))!;
        }
    }

    public void Dispose() => _http.Dispose();
}
