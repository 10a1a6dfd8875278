namespace SessionRec.Training;

using SessionRec.Models.Featurization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

/// <summary>
/// The metadata-aware multi-task transformer. Item encoder: one embedding per metadata field (bags averaged),
/// concatenated and projected to the model dimension, plus an optional per-item residual. Session encoder: a
/// causal pre-norm transformer over the session's item vectors with learned positions; the output at each
/// position scores the next item by dot product with the item matrix and feeds the category heads.
/// Every operation here has an ONNX counterpart in <see cref="OnnxExporter"/>; change both together.
/// </summary>
public sealed class M2TRecModule : nn.Module
{
    private readonly M2TRecOptions _options;
    private readonly int _items;

    /// <param name="itemCounts">Training interactions per item, for the residual's gate
    /// (<see cref="M2TRecOptions.ResidualMinCount"/>); null opens it for every item.</param>
    public M2TRecModule(M2TRecOptions options, ItemFeaturizer featurizer, int items, int[]? itemCounts = null)
        : base("m2trec")
    {
        _options = options;
        _items = items;
        var f = options.FieldDim;
        var fields = 0;
        if (options.Metadata)
        {
            if (options.UseBrand)
            {
                brand = Embedding(featurizer.BrandVocabulary, f);
                fields++;
            }

            if (options.UseCategories)
            {
                categories = new ModuleList<Embedding>([.. featurizer.CategoryVocabulary.Select(v => Embedding(v, f))]);
                fields += ItemFeaturizer.Levels;
            }

            if (options.UseTitle)
            {
                title = Embedding(featurizer.TitleVocabulary, f);
                fields++;
            }

            if (options.UseAttributes)
            {
                attributes = Embedding(featurizer.AttributeVocabulary, f);
                fields++;
            }

            if (options.UsePrice)
            {
                price = Embedding(ItemFeaturizer.PriceVocabulary, f);
                fields++;
            }

            project = nn.Linear(fields * f, options.Dim);
            if (options.ItemTower == "mlp")
            {
                hidden = nn.Linear(fields * f, 2 * options.Dim);
                expand = nn.Linear(2 * options.Dim, options.Dim);
            }
        }

        if (options.Scoring == "cosine")
        {
            log_scale = nn.Parameter(tensor(MathF.Log(20f)));
        }

        if (!options.Metadata || options.IdResidual)
        {
            ids = nn.Embedding(items, options.Dim);
            using (no_grad())
            {
                // ID-only: a normal start; residual: zero, so an item never trained on is pure metadata.
                if (options.Metadata)
                {
                    ids.weight!.zero_();
                }
                else
                {
                    nn.init.normal_(ids.weight!, 0, 0.05);
                }
            }

            if (options.Metadata)
            {
                // A constant 0/1 column: a gated item's residual gets no gradient and adds nothing. It starts closed
                // for every item (training begins with the pure metadata model) until OpenResidualGate.
                _openGate = [.. Enumerable.Range(0, items).Select(i => itemCounts is null || i >= itemCounts.Length || itemCounts[i] >= options.ResidualMinCount ? 1f : 0f)];
                residual_gate = zeros(items, 1);
            }
        }

        positions = nn.Embedding(options.MaxLength, options.Dim);
        blocks = new ModuleList<Block>([.. Enumerable.Range(0, options.Layers).Select(_ => new Block(options))]);
        final_norm = nn.LayerNorm(options.Dim);
        dropout = nn.Dropout(options.Dropout);
        if (options.HasHeads)
        {
            var v = featurizer.CategoryVocabulary;
            primary = nn.Linear(options.Dim, v[0]);
            sub = new ModuleList<Linear>([.. v.Skip(1).Select(n => nn.Linear(options.Dim, n))]);
        }

        RegisterComponents();
    }

#pragma warning disable IDE1006, SA1300 // Field names are the parameter names in state dicts and the exporter.
    private readonly Embedding? brand;
    private readonly ModuleList<Embedding>? categories;
    private readonly Embedding? title;
    private readonly Embedding? attributes;
    private readonly Embedding? price;
    private readonly Linear? project;
    private readonly Linear? hidden;
    private readonly Linear? expand;
    private readonly TorchSharp.Modules.Parameter? log_scale;
    private readonly Embedding? ids;
    private readonly Tensor? residual_gate;
    private readonly float[]? _openGate;
    private readonly Embedding positions;
    private readonly ModuleList<Block> blocks;
    private readonly LayerNorm final_norm;
    private readonly Dropout dropout;
    private readonly Linear? primary;
    private readonly ModuleList<Linear>? sub;
#pragma warning restore IDE1006, SA1300

    public M2TRecOptions Options => _options;

    public int ItemCount => _items;

    /// <summary>The per-item residuals as trained ([items, Dim], gated rows zero), or null without residuals.</summary>
    public Tensor? Residuals() =>
        ids is not null && residual_gate is not null ? (ids.weight! * residual_gate).detach() : null;

    /// <summary>
    /// Lets the residuals of items with at least <see cref="M2TRecOptions.ResidualMinCount"/> training interactions
    /// learn and count (every item when the counts were not given); until then the model is the pure metadata one.
    /// </summary>
    public void OpenResidualGate()
    {
        if (residual_gate is not null && _openGate is not null)
        {
            using var _ = no_grad();
            residual_gate.copy_(tensor(_openGate).view(_items, 1));
        }
    }

    /// <summary>Per item, whether it has a residual (its gate is open); all false without residuals.</summary>
    public bool[] ResidualItems() =>
        ids is null || residual_gate is null ? new bool[_items] : [.. residual_gate.data<float>().ToArray().Select(g => g > 0)];

    /// <summary>Item vectors [N, Dim] from the feature table tensors (each on the model's device).</summary>
    public Tensor EncodeItems(ItemTensors table)
    {
        Tensor? vectors = null;
        if (project is not null)
        {
            var parts = new List<Tensor>();
            if (brand is not null)
            {
                parts.Add(brand.forward(table.Brand));
            }

            if (categories is not null)
            {
                for (var l = 0; l < categories.Count; l++)
                {
                    parts.Add(categories[l].forward(table.Categories.select(1, l)));
                }
            }

            if (title is not null)
            {
                parts.Add(MeanBag(title, table.Title));
            }

            if (attributes is not null)
            {
                parts.Add(MeanBag(attributes, table.Attributes));
            }

            if (price is not null)
            {
                parts.Add(price.forward(table.Price));
            }

            var fields = cat(parts, 1);
            vectors = project.forward(fields);
            if (hidden is not null && expand is not null)
            {
                vectors = vectors + expand.forward(nn.functional.gelu(hidden.forward(fields)));
            }
        }

        if (ids is not null)
        {
            var residuals = residual_gate is null ? ids.weight! : ids.weight! * residual_gate;
            vectors = vectors is null ? residuals : vectors + residuals;
        }

        return vectors!;
    }

    /// <summary>
    /// Encoder outputs [B, L, Dim] for right-padded sessions of item vectors [B, L, Dim]; causal, so padding
    /// after a position never reaches it.
    /// </summary>
    public Tensor EncodeSessions(Tensor sessionVectors)
    {
        var length = sessionVectors.shape[1];
        var x = sessionVectors + positions.weight!.narrow(0, 0, length).unsqueeze(0);
        x = dropout.forward(x);
        using var mask = CausalMask(length, x.device);
        foreach (var block in blocks)
        {
            x = block.forward(x, mask);
        }

        x = final_norm.forward(x);
        return _options.Pooling == "mean"
            ? x.cumsum(1) / arange(1, length + 1, dtype: x.dtype, device: x.device).view(1, length, 1)
            : x;
    }

    /// <summary>The session vector as scored: as is for dot scoring; unit length times the learned scale for cosine.</summary>
    public Tensor ScoringSession(Tensor sessions) =>
        log_scale is null ? sessions : Normalize(sessions) * log_scale.exp();

    /// <summary>Item vectors as scored: as is for dot scoring; unit length for cosine.</summary>
    public Tensor ScoringItems(Tensor items) => log_scale is null ? items : Normalize(items);

    /// <summary>The learned cosine scale (1 for dot scoring).</summary>
    public float Scale => log_scale is null ? 1f : log_scale.exp().item<float>();

    public static Tensor Normalize(Tensor x) => x / x.norm(-1, keepdim: true).clamp_min(1e-6);

    /// <summary>Category head logits for session vectors [P, Dim]: primary [P, V0], then each sub level.</summary>
    public (Tensor Primary, Tensor[] Sub)? Heads(Tensor sessions) =>
        primary is null || sub is null ? null : (primary.forward(sessions), [.. sub.Select(s => s.forward(sessions))]);

    public static Tensor CausalMask(long length, Device device) =>
        triu(full(length, length, -1e9f, device: device), diagonal: 1);

    private static Embedding Embedding(int vocabulary, int dim)
    {
        var embedding = nn.Embedding(vocabulary, dim, padding_idx: ItemFeaturizer.Pad);
        using (no_grad())
        {
            nn.init.normal_(embedding.weight!, 0, 0.1);
            embedding.weight![ItemFeaturizer.Pad].zero_();
        }

        return embedding;
    }

    /// <summary>
    /// Mean of the embeddings of a bag's non-padding ids (zero for an empty bag), in chunks of items: glibc serves
    /// allocations over 32 MiB with fresh mmap pages, and faulting those in costs more than the arithmetic.
    /// </summary>
    private static Tensor MeanBag(Embedding embedding, Tensor bag)
    {
        const int chunk = 2048;
        var parts = new List<Tensor>();
        for (long start = 0; start < bag.shape[0]; start += chunk)
        {
            var part = bag.narrow(0, start, Math.Min(chunk, bag.shape[0] - start));
            var mask = part.ne(ItemFeaturizer.Pad).to_type(ScalarType.Float32);
            var sum = (embedding.forward(part) * mask.unsqueeze(-1)).sum(1);
            parts.Add(sum / mask.sum(1, keepdim: true).clamp_min(1));
        }

        return parts.Count == 1 ? parts[0] : cat(parts, 0);
    }

    /// <summary>Pre-norm transformer block: x + Attn(LN(x)), then x + FFN(LN(x)) with GELU.</summary>
    public sealed class Block : nn.Module<Tensor, Tensor, Tensor>
    {
        private readonly int _heads;

        public Block(M2TRecOptions options)
            : base("block")
        {
            _heads = options.Heads;
            norm1 = nn.LayerNorm(options.Dim);
            query = nn.Linear(options.Dim, options.Dim);
            key = nn.Linear(options.Dim, options.Dim);
            value = nn.Linear(options.Dim, options.Dim);
            output = nn.Linear(options.Dim, options.Dim);
            norm2 = nn.LayerNorm(options.Dim);
            ff1 = nn.Linear(options.Dim, options.FeedForward);
            ff2 = nn.Linear(options.FeedForward, options.Dim);
            drop = nn.Dropout(options.Dropout);
            RegisterComponents();
        }

#pragma warning disable IDE1006, SA1300
        private readonly LayerNorm norm1;
        private readonly Linear query;
        private readonly Linear key;
        private readonly Linear value;
        private readonly Linear output;
        private readonly LayerNorm norm2;
        private readonly Linear ff1;
        private readonly Linear ff2;
        private readonly Dropout drop;
#pragma warning restore IDE1006, SA1300

        public override Tensor forward(Tensor x, Tensor mask)
        {
            var (b, l, d) = (x.shape[0], x.shape[1], x.shape[2]);
            var h = norm1.forward(x);
            Tensor Split(Tensor t) => t.view(b, l, _heads, d / _heads).transpose(1, 2);
            var q = Split(query.forward(h));
            var k = Split(key.forward(h));
            var v = Split(value.forward(h));
            var attention = (q.matmul(k.transpose(-2, -1)) / Math.Sqrt(d / _heads)) + mask;
            var context = drop.forward(attention.softmax(-1)).matmul(v).transpose(1, 2).reshape(b, l, d);
            x = x + drop.forward(output.forward(context));
            var f = ff2.forward(nn.functional.gelu(ff1.forward(norm2.forward(x))));
            return x + drop.forward(f);
        }
    }
}

/// <summary>The catalogue's feature table as tensors.</summary>
public sealed class ItemTensors : IDisposable
{
    public ItemTensors(ItemFeatureTable table, Device? device = null)
    {
        var n = table.Count;
        Brand = tensor(table.Brand, [n], device: device);
        Categories = tensor(table.Categories, [n, ItemFeaturizer.Levels], device: device);
        Title = tensor(table.Title, [n, ItemFeaturizer.MaxTitleTokens], device: device);
        Attributes = tensor(table.Attributes, [n, ItemFeaturizer.MaxAttributes], device: device);
        Price = tensor(table.Price, [n], device: device);
    }

    public Tensor Brand { get; }

    public Tensor Categories { get; }

    public Tensor Title { get; }

    public Tensor Attributes { get; }

    public Tensor Price { get; }

    public void Dispose()
    {
        Brand.Dispose();
        Categories.Dispose();
        Title.Dispose();
        Attributes.Dispose();
        Price.Dispose();
    }
}
