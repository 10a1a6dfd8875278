namespace SessionRec.Api.Endpoints;

using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using SessionRec.Abstractions.Catalogue;
using SessionRec.Api.Auth;
using SessionRec.Api.Contracts;
using SessionRec.Api.Errors;
using SessionRec.Api.Hosting;
using SessionRec.EventContract;

/// <summary>The tenant's catalogue: batch upsert, read, delete.</summary>
public static class ItemsApi
{
    public static RouteGroupBuilder MapItemsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/items").WithTags("Catalogue").RequireAuthorization();
        group.MapPut("/", UpsertItems).WithName("UpsertItems").WithSummary("Add or replace items (batch).");
        group.MapGet("/", GetItems).WithName("GetItems").AllowPublishableKey()
            .WithSummary($"Read up to {MaxIdsPerRead} items by id (ids=a,b,c); ids not in the catalogue are left out.");
        group.MapGet("/{id}", GetItem).WithName("GetItem").WithSummary("Read one item.").AllowPublishableKey();
        group.MapDelete("/{id}", DeleteItem).WithName("DeleteItem").WithSummary("Remove one item.");
        return group;
    }

    public static async Task<Results<Ok<UpsertItemsResponse>, ProblemHttpResult>> UpsertItems(
        UpsertItemsRequest body, ClaimsPrincipal user, IGrainFactory grains, IOptions<ApiOptions> options, TimeProvider time)
    {
        var max = options.Value.MaxItemsPerRequest;
        if (body.Items is null || body.Items.Count == 0)
        {
            return Problems.BadRequest("No items", "The body must be {\"items\": [...]} with at least one item.");
        }

        if (body.Items.Count > max)
        {
            return Problems.BadRequest("Too many items", $"At most {max} items per request; this one has {body.Items.Count}.");
        }

        var now = time.GetUtcNow();
        var items = new List<CatalogueItem>(body.Items.Count);
        var errors = new Dictionary<string, string[]>();
        for (var i = 0; i < body.Items.Count; i++)
        {
            var item = body.Items[i];
            var problem = ItemProblem(item);
            if (problem is not null)
            {
                errors[$"items[{i}]"] = [problem];
                continue;
            }

            items.Add(new CatalogueItem(
                item!.Id!,
                item.Title ?? "",
                string.IsNullOrWhiteSpace(item.Brand) ? null : item.Brand.Trim(),
                item.Categories ?? [],
                item.Attributes ?? new Dictionary<string, string>(),
                item.Price,
                item.Available ?? true,
                now));
        }

        // Items are all-or-nothing: a catalogue batch with a bad item is refused whole, so a client never has to
        // work out which half of its batch landed.
        if (errors.Count > 0)
        {
            return TypedResults.Problem(new HttpValidationProblemDetails(errors)
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "Invalid items",
                Detail = "No item of this batch was stored.",
            });
        }

        var upserted = await grains.GetGrain<ICatalogueGrain>(user.Tenant()).UpsertAsync(items);
        return TypedResults.Ok(new UpsertItemsResponse(upserted));
    }

    public const int MaxIdsPerRead = 100;

    /// <summary>
    /// A page showing a list of recommended ids reads their titles in one call. Reads the store, as
    /// <see cref="GetItem"/> does; the answer keeps the order asked for.
    /// </summary>
    public static async Task<Results<Ok<ItemsResponse>, ProblemHttpResult>> GetItems(
        string? ids, ClaimsPrincipal user, SessionRec.Silo.Catalogue.RedisCatalogueStore store)
    {
        var wanted = (ids ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToList();
        if (wanted.Count == 0)
        {
            return Problems.BadRequest("No ids", "ids must name at least one item id (ids=a,b,c).");
        }

        if (wanted.Count > MaxIdsPerRead)
        {
            return Problems.BadRequest("Too many ids", $"ids takes at most {MaxIdsPerRead} item ids; this request has {wanted.Count}.");
        }

        foreach (var id in wanted)
        {
            if (FieldRules.PathIdProblem("ids", id) is { } problem)
            {
                return Problems.BadRequest("Invalid ids", problem);
            }
        }

        var found = await store.GetManyAsync(user.Tenant(), wanted);
        return TypedResults.Ok(new ItemsResponse([.. found.OfType<CatalogueItem>().Select(ToResponse)]));
    }

    private static ItemResponse ToResponse(CatalogueItem item) =>
        new(item.Id, item.Title, item.Brand, item.Categories, item.Attributes, item.Price, item.Available, item.UpdatedAt);

    /// <summary>Reads the store, not the catalogue grain: a read never waits for a tenant's grain to activate.</summary>
    public static async Task<Results<Ok<ItemResponse>, ProblemHttpResult>> GetItem(
        string id, ClaimsPrincipal user, SessionRec.Silo.Catalogue.RedisCatalogueStore store)
    {
        if (FieldRules.PathIdProblem("id", id) is { } problem)
        {
            return Problems.BadRequest("Invalid item id", problem);
        }

        var item = await store.GetAsync(user.Tenant(), id);
        if (item is null)
        {
            return Problems.NotFound("Item not found", $"No item '{id}' in this tenant's catalogue.");
        }

        return TypedResults.Ok(ToResponse(item));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteItem(
        string id, ClaimsPrincipal user, IGrainFactory grains)
    {
        if (FieldRules.PathIdProblem("id", id) is { } problem)
        {
            return Problems.BadRequest("Invalid item id", problem);
        }

        var removed = await grains.GetGrain<ICatalogueGrain>(user.Tenant()).DeleteAsync(id);
        return removed ? TypedResults.NoContent() : Problems.NotFound("Item not found", $"No item '{id}' in this tenant's catalogue.");
    }

    private static string? ItemProblem(ItemBody? item)
    {
        if (item is null)
        {
            return "The item is null.";
        }

        var problem = FieldRules.PathIdProblem("id", item.Id)
            ?? FieldRules.TextProblem("title", item.Title)
            ?? FieldRules.TextProblem("brand", item.Brand, FieldRules.MaxIdLength);
        if (problem is not null)
        {
            return problem;
        }

        if (item.Categories is { Count: > 16 })
        {
            return "categories has more than 16 levels.";
        }

        foreach (var category in item.Categories ?? [])
        {
            if (string.IsNullOrWhiteSpace(category) || FieldRules.TextProblem("categories[]", category, FieldRules.MaxIdLength) is not null)
            {
                return "each category must be non-empty text of at most 256 characters.";
            }
        }

        if (item.Attributes is { Count: > 64 })
        {
            return "attributes has more than 64 entries.";
        }

        foreach (var (key, value) in item.Attributes ?? new Dictionary<string, string>())
        {
            if (FieldRules.IdProblem("attribute name", key) is { } bad)
            {
                return bad;
            }

            if (value is null || FieldRules.TextProblem($"attributes.{key}", value) is not null)
            {
                return $"attributes.{key} must be text of at most {FieldRules.MaxTextLength} characters.";
            }
        }

        if (item.Price is < 0)
        {
            return "price must not be negative.";
        }

        return null;
    }
}
