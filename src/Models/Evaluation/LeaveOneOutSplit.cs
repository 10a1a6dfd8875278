namespace SessionRec.Models.Evaluation;

using SessionRec.Models.Data;

/// <summary>Which held-out item a run predicts.</summary>
public enum Phase
{
    /// <summary>History = training part, target = second-last item; models fitted on training parts.</summary>
    Validation,

    /// <summary>History = training part + validation item, target = last item; models fitted on both.</summary>
    Test,
}

/// <summary>
/// The leave-one-out protocol of S3-Rec / Ada-Retrieval: users with fewer than 3 items are dropped, the last
/// item is the test target, the second-last the validation target, the rest is the training part.
/// </summary>
public sealed class LeaveOneOutSplit
{
    private LeaveOneOutSplit(SequenceDataset dataset, int[] users, int[][] train, int[] valid, int[] test, IReadOnlySet<int>? unreleased = null)
    {
        Dataset = dataset;
        UserIndex = users;
        Train = train;
        Valid = valid;
        Test = test;
        Unreleased = unreleased ?? new HashSet<int>();
    }

    public SequenceDataset Dataset { get; }

    public int ItemCount => Dataset.ItemCount;

    /// <summary>Index into <see cref="SequenceDataset.Sequences"/> of each evaluated user.</summary>
    public IReadOnlyList<int> UserIndex { get; }

    public IReadOnlyList<int[]> Train { get; }

    public IReadOnlyList<int> Valid { get; }

    public IReadOnlyList<int> Test { get; }

    public int UserCount => Train.Count;

    /// <summary>
    /// Items that were not in the catalogue when the models were trained (the brand-new-item slice's held-out
    /// items): a trainer neither learns vocabulary from their metadata nor uses them as negatives, exactly as for an
    /// item PUT after training. They are scored, from their metadata, only at test time.
    /// </summary>
    public IReadOnlySet<int> Unreleased { get; }

    /// <summary>The catalogue as the trainer sees it: every item but the <see cref="Unreleased"/> ones.</summary>
    public IEnumerable<ImportItem> ReleasedItems => Dataset.Items.Where((_, i) => !Unreleased.Contains(i));

    public static LeaveOneOutSplit Create(SequenceDataset dataset)
    {
        var users = new List<int>();
        var train = new List<int[]>();
        var valid = new List<int>();
        var test = new List<int>();
        for (var u = 0; u < dataset.Sequences.Count; u++)
        {
            var s = dataset.Sequences[u];
            if (s.Length < 3)
            {
                continue;
            }

            users.Add(u);
            train.Add(s[..^2]);
            valid.Add(s[^2]);
            test.Add(s[^1]);
        }

        return new LeaveOneOutSplit(dataset, [.. users], [.. train], [.. valid], [.. test]);
    }

    /// <summary>The model's input for user <paramref name="u"/> in <paramref name="phase"/>.</summary>
    public int[] History(int u, Phase phase) => phase == Phase.Validation ? Train[u] : [.. Train[u], Valid[u]];

    public int Target(int u, Phase phase) => phase == Phase.Validation ? Valid[u] : Test[u];

    /// <summary>The sequences models are fitted on in <paramref name="phase"/> (no target ever leaks in).</summary>
    public IReadOnlyList<int[]> FitSequences(Phase phase) =>
        phase == Phase.Validation ? Train : [.. Enumerable.Range(0, UserCount).Select(u => History(u, Phase.Test))];

    /// <summary>How often each item occurs in the sequences models are fitted on in <paramref name="phase"/>.</summary>
    public int[] ItemCounts(Phase phase)
    {
        var counts = new int[ItemCount];
        foreach (var s in FitSequences(phase))
        {
            foreach (var i in s)
            {
                counts[i]++;
            }
        }

        return counts;
    }

    /// <summary>
    /// The brand-new-item slice: a seeded <paramref name="fraction"/> of the items is removed from every
    /// sequence (training, validation and test), so no model ever sees an interaction with them; the users whose
    /// test target was one of them are evaluated with that target put back and the rest of their history
    /// without held-out items.
    /// </summary>
    public (LeaveOneOutSplit Split, IReadOnlyList<int> NewItemUsers, IReadOnlySet<int> HeldOut) HoldOutItems(double fraction, int seed)
    {
        var random = new Random(seed);
        var heldOut = Enumerable.Range(0, ItemCount).Where(_ => random.NextDouble() < fraction).ToHashSet();
        var train = new List<int[]>(UserCount);
        var valid = new List<int>(UserCount);
        var test = new List<int>(UserCount);
        var users = new List<int>(UserCount);
        var newItemUsers = new List<int>();
        for (var u = 0; u < UserCount; u++)
        {
            int[] kept = [.. History(u, Phase.Test).Where(i => !heldOut.Contains(i))];
            if (heldOut.Contains(Test[u]))
            {
                if (kept.Length < 2)
                {
                    continue;
                }

                newItemUsers.Add(users.Count);
                users.Add(UserIndex[u]);
                train.Add(kept[..^1]);
                valid.Add(kept[^1]);
                test.Add(Test[u]);
                continue;
            }

            int[] all = [.. kept, Test[u]];
            if (all.Length < 3)
            {
                continue;
            }

            users.Add(UserIndex[u]);
            train.Add(all[..^2]);
            valid.Add(all[^2]);
            test.Add(all[^1]);
        }

        return (new LeaveOneOutSplit(Dataset, [.. users], [.. train], [.. valid], [.. test], heldOut), newItemUsers, heldOut);
    }
}
