namespace SessionRec.Models.Data;

using System.Globalization;

/// <summary>Readers for the data-set formats `sessionrec import` accepts.</summary>
public static class DatasetReaders
{
    private static readonly IReadOnlyDictionary<string, string> NoAttributes = new Dictionary<string, string>();

    /// <summary>
    /// Amazon Beauty as preprocessed by S3-Rec: Beauty.txt ("user item item ...", in time order) and items.tsv
    /// (item_id, asin, title, brand, categories "A > B > C").
    /// </summary>
    public static Dataset ReadBeauty(string folder)
    {
        var items = new List<ImportItem>();
        var itemsFile = Path.Combine(folder, "items.tsv");
        foreach (var line in File.ReadLines(itemsFile).Skip(1))
        {
            var f = line.Split('\t');
            if (f.Length < 5)
            {
                throw new FormatException($"{itemsFile}: expected 5 tab-separated fields, got {f.Length}: '{line}'.");
            }

            items.Add(new ImportItem(
                f[0],
                f[2],
                f[3].Length == 0 ? null : f[3],
                SplitPath(f[4], " > "),
                new Dictionary<string, string> { ["asin"] = f[1] },
                null));
        }

        var interactions = new List<ImportInteraction>();
        foreach (var line in File.ReadLines(Path.Combine(folder, "Beauty.txt")))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            for (var i = 1; i < f.Length; i++)
            {
                interactions.Add(new ImportInteraction(f[0], f[i], "view", null, null));
            }
        }

        return new Dataset("amazon-beauty", items, interactions);
    }

    /// <summary>
    /// RecBole atomic files: a header of "name:type" fields, tab-separated rows. In .inter: user_id, item_id,
    /// optional timestamp (and session_id for session data sets). In .item: item_id, and any of title, brand,
    /// categories/category/genre (token_seq), price; other fields become attributes.
    /// </summary>
    public static Dataset ReadRecBole(string interFile, string? itemFile)
    {
        var items = new List<ImportItem>();
        if (itemFile is not null)
        {
            var (header, rows) = ReadAtomic(itemFile);
            var id = Column(header, itemFile, "item_id");
            foreach (var row in rows)
            {
                string? Get(params string[] names)
                {
                    foreach (var name in names)
                    {
                        var c = Array.IndexOf(header, name);
                        if (c >= 0 && c < row.Length && row[c].Length > 0)
                        {
                            return row[c];
                        }
                    }

                    return null;
                }

                var attributes = new Dictionary<string, string>();
                for (var c = 0; c < header.Length && c < row.Length; c++)
                {
                    if (row[c].Length > 0 && header[c] is not ("item_id" or "title" or "movie_title" or "brand" or "categories" or "category" or "genre" or "class" or "price" or "sales_rank"))
                    {
                        attributes[header[c]] = row[c];
                    }
                }

                var price = Get("price") is { } p && decimal.TryParse(p, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= 0 ? value : (decimal?)null;
                var categories = Get("categories", "category", "genre", "class") is { } cats
                    ? cats.Split([' ', ',', '|'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    : [];
                items.Add(new ImportItem(row[id], Get("title", "movie_title") ?? "", Get("brand"), categories, attributes, price));
            }
        }

        var (iheader, irows) = ReadAtomic(interFile);
        var user = Column(iheader, interFile, "user_id", "session_id");
        var item = Column(iheader, interFile, "item_id");
        var time = Array.IndexOf(iheader, "timestamp");
        var session = Array.IndexOf(iheader, "session_id");
        var interactions = new List<ImportInteraction>(irows.Count);
        foreach (var row in irows)
        {
            double? t = time >= 0 && double.TryParse(row[time], NumberStyles.Float, CultureInfo.InvariantCulture, out var ts) ? ts : null;
            interactions.Add(new ImportInteraction(row[user], row[item], "view", t, session >= 0 ? row[session] : null));
        }

        if (itemFile is null)
        {
            items.AddRange(interactions.Select(i => i.ItemId).Distinct().Select(i => new ImportItem(i, "", null, [], NoAttributes, null)));
        }

        return new Dataset(Path.GetFileNameWithoutExtension(interFile), items, interactions);
    }

    /// <summary>MovieLens CSV: movies.csv (movieId,title,genres) and ratings.csv (userId,movieId,rating,timestamp).</summary>
    public static Dataset ReadMovieLens(string folder)
    {
        var items = new List<ImportItem>();
        foreach (var f in ReadCsv(Path.Combine(folder, "movies.csv")).Skip(1))
        {
            var genres = f[2] == "(no genres listed)" ? [] : f[2].Split('|');
            items.Add(new ImportItem(f[0], f[1], null, genres, NoAttributes, null));
        }

        var interactions = new List<ImportInteraction>();
        foreach (var f in ReadCsv(Path.Combine(folder, "ratings.csv")).Skip(1))
        {
            var rating = double.Parse(f[2], CultureInfo.InvariantCulture);
            // A high rating is the strongest signal MovieLens has; it maps to a purchase-like event.
            interactions.Add(new ImportInteraction(f[0], f[1], rating >= 4 ? "add_to_cart" : "view", double.Parse(f[3], CultureInfo.InvariantCulture), null));
        }

        return new Dataset("movielens", items, interactions);
    }

    /// <summary>
    /// Diginetica item views (session_id;user_id;item_id;timeframe;eventdate). Sessions are anonymous: each
    /// session is its own user ("s" + session id); timeframe orders the views within a session.
    /// </summary>
    public static Dataset ReadDiginetica(string file)
    {
        var interactions = new List<ImportInteraction>();
        foreach (var line in File.ReadLines(file).Skip(1))
        {
            var f = line.Split(';');
            var day = DateTime.ParseExact(f[4], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
            var t = new DateTimeOffset(day).ToUnixTimeSeconds() + double.Parse(f[3], CultureInfo.InvariantCulture) / 1000.0;
            var user = f[1] is "NA" or "" ? "s" + f[0] : f[1];
            interactions.Add(new ImportInteraction(user, f[2], "view", t, f[0]));
        }

        var items = interactions.Select(i => i.ItemId).Distinct().Select(i => new ImportItem(i, "", null, [], NoAttributes, null)).ToList();
        return new Dataset("diginetica", items, interactions);
    }

    private static IReadOnlyList<string> SplitPath(string path, string separator) =>
        path.Split(separator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static (string[] Header, List<string[]> Rows) ReadAtomic(string file)
    {
        using var reader = new StreamReader(file);
        var first = reader.ReadLine() ?? throw new FormatException($"{file} is empty.");
        var header = first.Split('\t').Select(h => h.Split(':')[0].Trim()).ToArray();
        var rows = new List<string[]>();
        string? line;
        var number = 1;
        while ((line = reader.ReadLine()) is not null)
        {
            number++;
            if (line.Length == 0)
            {
                continue;
            }

            var row = line.Split('\t');
            if (row.Length != header.Length)
            {
                throw new FormatException($"{file}:{number}: {row.Length} fields, but the header has {header.Length}.");
            }

            rows.Add(row);
        }

        return (header, rows);
    }

    private static int Column(string[] header, string file, params string[] names)
    {
        foreach (var name in names)
        {
            var c = Array.IndexOf(header, name);
            if (c >= 0)
            {
                return c;
            }
        }

        throw new FormatException($"{file} has no {string.Join(" or ", names)} column (header: {string.Join(", ", header)}).");
    }

    /// <summary>RFC 4180 CSV: quoted fields may hold commas, quotes ("") and newlines.</summary>
    public static IEnumerable<string[]> ReadCsv(string file)
    {
        using var reader = new StreamReader(file);
        var fields = new List<string>();
        var field = new System.Text.StringBuilder();
        var quoted = false;
        int c;
        while ((c = reader.Read()) >= 0)
        {
            var ch = (char)c;
            if (quoted)
            {
                if (ch == '"')
                {
                    if (reader.Peek() == '"')
                    {
                        field.Append('"');
                        reader.Read();
                    }
                    else
                    {
                        quoted = false;
                    }
                }
                else
                {
                    field.Append(ch);
                }
            }
            else if (ch == '"')
            {
                quoted = true;
            }
            else if (ch == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
            }
            else if (ch == '\n')
            {
                fields.Add(field.ToString().TrimEnd('\r'));
                field.Clear();
                yield return [.. fields];
                fields.Clear();
            }
            else
            {
                field.Append(ch);
            }
        }

        if (field.Length > 0 || fields.Count > 0)
        {
            fields.Add(field.ToString().TrimEnd('\r'));
            yield return [.. fields];
        }
    }
}
