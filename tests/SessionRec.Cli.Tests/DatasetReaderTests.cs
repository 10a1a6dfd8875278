namespace SessionRec.Cli.Tests;

using SessionRec.Cli.Import;
using SessionRec.Models.Data;
using SessionRec.TestSupport;

public sealed class DatasetReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sessionrec-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void RecBoleAtomicFilesMapKnownFieldsAndKeepTheRestAsAttributes()
    {
        var inter = Write("x.inter", "user_id:token\titem_id:token\trating:float\ttimestamp:float\nu1\ti1\t5\t100\nu1\ti2\t3\t200\nu2\ti1\t4\t150\n");
        var item = Write("x.item", "item_id:token\ttitle:token_seq\tbrand:token\tcategories:token_seq\tprice:float\tcolour:token\ni1\tRed Lipstick\tOPI\tMakeup Lips\t9.5\tred\ni2\tGloss\t\t\t\t\n");

        var data = DatasetReaders.ReadRecBole(inter, item);

        Assert.Equal("x", data.Name);
        var i1 = data.Items[0];
        Assert.Equal(("i1", "Red Lipstick", "OPI", 9.5m), (i1.Id, i1.Title, i1.Brand, i1.Price!.Value));
        Assert.Equal(["Makeup", "Lips"], i1.Categories);
        Assert.Equal("red", i1.Attributes["colour"]);
        Assert.Null(data.Items[1].Brand);
        Assert.Equal([100.0, 200.0, 150.0], data.Interactions.Select(i => i.UnixTime!.Value));
    }

    [Fact]
    public void RecBoleRowsWithTheWrongFieldCountAreReportedWithTheirLine()
    {
        var inter = Write("bad.inter", "user_id:token\titem_id:token\nu1\ti1\nu2\n");

        var error = Assert.Throws<FormatException>(() => DatasetReaders.ReadRecBole(inter, null));

        Assert.Contains("bad.inter:3", error.Message);
    }

    [Fact]
    public void RecBoleWithoutAnItemFileStillGivesEveryItemACatalogueEntry()
    {
        var inter = Write("y.inter", "session_id:token\titem_id:token\ns1\ta\ns1\tb\ns2\ta\n");

        var data = DatasetReaders.ReadRecBole(inter, null);

        Assert.Equal(["a", "b"], data.Items.Select(i => i.Id));
        Assert.Equal(["s1", "s1", "s2"], data.Interactions.Select(i => i.SessionKey));
    }

    [Fact]
    public void CsvFieldsMayHoldQuotedCommasQuotesAndNewlines()
    {
        var path = Write("m.csv", "a,b,c\r\n1,\"Hello, \"\"World\"\"\",x\r\n2,\"two\nlines\",y\n");

        var rows = DatasetReaders.ReadCsv(path).ToList();

        Assert.Equal(["1", "Hello, \"World\"", "x"], rows[1]);
        Assert.Equal(["2", "two\nlines", "y"], rows[2]);
    }

    [Fact]
    public void DigineticaSessionsAreAnonymousUsersOrderedByTimeframe()
    {
        var path = Write("d.csv", "session_id;user_id;item_id;timeframe;eventdate\n1;NA;81766;526309;2016-05-09\n1;NA;31331;1031018;2016-05-09\n2;7;5;10;2016-05-10\n");

        var data = DatasetReaders.ReadDiginetica(path);

        Assert.Equal(["s1", "s1", "7"], data.Interactions.Select(i => i.UserId));
        Assert.True(data.Interactions[1].UnixTime > data.Interactions[0].UnixTime);
        Assert.Equal(3, data.Items.Count);
    }

    [Fact]
    public void TheAmazonBeautyFilesHaveTheirPublishedSize()
    {
        var folder = SharedData.Find("amazon-beauty");
        Assert.SkipWhen(folder is null, "../shared/data/amazon-beauty is not on this machine.");

        var data = DatasetReaders.ReadBeauty(folder!);

        Assert.Equal(12_101, data.Items.Count);
        Assert.Equal(198_502, data.Interactions.Count);
        Assert.Equal(22_363, data.Interactions.Select(i => i.UserId).Distinct().Count());
        Assert.Equal(["Makeup", "Nails", "Nail Polish"], data.Items[0].Categories);
        Assert.Equal("OPI", data.Items[0].Brand);
    }

    [Fact]
    public void TheMovieLensFilesAreRead()
    {
        var folder = SharedData.Find("movielens-latest-small");
        Assert.SkipWhen(folder is null, "../shared/data/movielens-latest-small is not on this machine.");

        var data = DatasetReaders.ReadMovieLens(folder!);

        Assert.Equal(9_125, data.Items.Count);
        Assert.Equal(100_004, data.Interactions.Count);
        Assert.Contains(data.Items, i => i.Title.Contains(',', StringComparison.Ordinal));
    }
}
