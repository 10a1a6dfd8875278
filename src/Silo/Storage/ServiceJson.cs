namespace SessionRec.Silo.Storage;

using System.Text.Json;
using System.Text.Json.Serialization;

/// <summary>The JSON shape of stored records (click log, catalogue): snake_case, enums as strings.</summary>
public static class ServiceJson
{
    public static readonly JsonSerializerOptions Options = Create();

    /// <summary>
    /// A stored value read back, or null when it no longer parses (a store that lost a record's end): the readers of
    /// stored records skip such a record instead of failing every read that passes it.
    /// </summary>
    public static T? TryDeserialize<T>(byte[] utf8, JsonSerializerOptions? options = null)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(utf8, options ?? Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
