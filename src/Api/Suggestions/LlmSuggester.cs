namespace SessionRec.Api.Suggestions;

using System.Collections.Concurrent;
using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using SessionRec.KnowledgeStore.Llm;

/// <summary>What happened to one LLM request, for the response, the logs and the tests.</summary>
public enum LlmOutcome
{
    Disabled,
    Answered,
    Cached,
    DeadlinePassed,
    Failed,
    Refused,
    BreakerOpen,
}

/// <summary>
/// The LLM path of suggestions: a K-LaMP prompt to an OpenAI-compatible chat endpoint through
/// Microsoft.Extensions.AI, with a deadline (the caller serves the retrieval suggestions past it), a cache per
/// user and context, a circuit breaker, and validation of every answer (<see cref="LlmOutput"/>). The client does
/// not retry: a retry could only land after the deadline.
/// </summary>
public sealed partial class LlmSuggester : IDisposable
{
    private readonly LlmOptions _options;
    private readonly IChatClient? _client;
    private readonly TimeProvider _time;
    private readonly ILogger<LlmSuggester> _logger;
    private readonly ConcurrentDictionary<string, (DateTimeOffset At, IReadOnlyList<LlmSuggestion> Suggestions)> _cache = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private int _failures;
    private DateTimeOffset _openUntil = DateTimeOffset.MinValue;

    public LlmSuggester(IOptions<LlmOptions> options, TimeProvider time, ILogger<LlmSuggester> logger)
    {
        _options = options.Value;
        _time = time;
        _logger = logger;
        if (_options.Endpoint is not null)
        {
            var clientOptions = new OpenAI.OpenAIClientOptions { Endpoint = _options.Endpoint, RetryPolicy = new ClientRetryPolicy(maxRetries: 0) };
            _client = new OpenAI.Chat.ChatClient(_options.Model, new ApiKeyCredential(_options.ApiKey), clientOptions).AsIChatClient();
        }
    }

    public bool Enabled => _client is not null;

    public string Model => _options.Model;

    public async Task<(LlmOutcome Outcome, IReadOnlyList<LlmSuggestion> Suggestions)> SuggestAsync(string cacheScope, LlmContext context, CancellationToken cancellationToken)
    {
        if (_client is null)
        {
            return (LlmOutcome.Disabled, []);
        }

        var now = _time.GetUtcNow();
        var key = cacheScope + "\u0001" + LlmPrompt.User(context);
        if (_cache.TryGetValue(key, out var hit) && now - hit.At < _options.CacheTtl)
        {
            return (LlmOutcome.Cached, hit.Suggestions);
        }

        lock (_gate)
        {
            if (now < _openUntil)
            {
                return (LlmOutcome.BreakerOpen, []);
            }
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.Deadline);
        var call = _client.GetResponseAsync(
            [new ChatMessage(ChatRole.System, LlmPrompt.System(context.Count)), new ChatMessage(ChatRole.User, LlmPrompt.User(context))],
            new ChatOptions { Temperature = 0.2f, MaxOutputTokens = 600, ResponseFormat = ChatResponseFormat.Json },
            deadline.Token);
        try
        {
            // WaitAsync: the deadline holds even if the transport ignores cancellation.
            var response = await call.WaitAsync(_options.Deadline, _time, cancellationToken);
            var suggestions = LlmOutput.Parse(response.Text, context.Query, context.Count);
            Succeeded();
            _cache[key] = (now, suggestions);
            TrimCache(now);
            return (LlmOutcome.Answered, suggestions);
        }
        catch (Exception e) when (e is TimeoutException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            Failed(LlmOutcome.DeadlinePassed, e);
            return (LlmOutcome.DeadlinePassed, []);
        }
        catch (LlmOutputException e)
        {
            Failed(LlmOutcome.Refused, e);
            return (LlmOutcome.Refused, []);
        }
        catch (Exception e) when (e is ClientResultException or HttpRequestException or InvalidOperationException or System.Text.Json.JsonException)
        {
            Failed(LlmOutcome.Failed, e);
            return (LlmOutcome.Failed, []);
        }
    }

    public void Dispose() => _client?.Dispose();

    private void Succeeded()
    {
        lock (_gate)
        {
            _failures = 0;
        }
    }

    private void Failed(LlmOutcome outcome, Exception e)
    {
        LogFailure(_logger, outcome, e.Message);
        lock (_gate)
        {
            if (++_failures >= _options.BreakerFailures)
            {
                _openUntil = _time.GetUtcNow() + _options.BreakerOpen;
                _failures = 0;
                LogBreakerOpen(_logger, _options.BreakerOpen);
            }
        }
    }

    /// <summary>Drops this process's cached answers for a scope (a user being erased).</summary>
    public void Forget(string cacheScope)
    {
        var prefix = cacheScope + "\u0001";
        foreach (var key in _cache.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList())
        {
            _cache.TryRemove(key, out _);
        }
    }

    /// <summary>The cache scope of one user: answers are cached per user and context, never shared.</summary>
    public static string ScopeOf(string tenant, string userId) => $"{tenant}\u0001{userId}";

    private void TrimCache(DateTimeOffset now)
    {
        if (_cache.Count <= 10_000)
        {
            return;
        }

        foreach (var stale in _cache.Where(kv => now - kv.Value.At >= _options.CacheTtl).Select(kv => kv.Key).ToList())
        {
            _cache.TryRemove(stale, out _);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "LLM suggestions not used ({Outcome}): {Reason}")]
    private static partial void LogFailure(ILogger logger, LlmOutcome outcome, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "LLM circuit breaker open for {Duration}")]
    private static partial void LogBreakerOpen(ILogger logger, TimeSpan duration);
}
