namespace SessionRec.Api.Suggestions;

using System.ComponentModel.DataAnnotations;

/// <summary>
/// An OpenAI-compatible chat endpoint for suggestions (section <c>Llm</c>): Ollama, vLLM, llama.cpp server, Azure
/// OpenAI, OpenAI. Without an <see cref="Endpoint"/> the LLM path is off and suggestions come from retrieval.
/// </summary>
public sealed class LlmOptions
{
    public const string SectionName = "Llm";

    /// <summary>Base URL of the API, e.g. <c>http://127.0.0.1:11434/v1</c> (Ollama) or <c>https://api.openai.com/v1</c>.</summary>
    public Uri? Endpoint { get; set; }

    public string Model { get; set; } = "llama3.2";

    /// <summary>From the environment (<c>Llm__ApiKey</c>) or user secrets, never a file in the repository.</summary>
    public string ApiKey { get; set; } = "unused";

    /// <summary>Past this, the retrieval suggestions are served and the answer, if it comes, is not waited for.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan Deadline { get; set; } = TimeSpan.FromMilliseconds(800);

    /// <summary>Answers are cached per user and context this long.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>After this many failures in a row (errors, timeouts, refused answers) the endpoint is not asked for <see cref="BreakerOpen"/>.</summary>
    [Range(1, 1000)]
    public int BreakerFailures { get; set; } = 5;

    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan BreakerOpen { get; set; } = TimeSpan.FromSeconds(30);
}
