namespace SessionRec.Training.Export;

using Onnx;
using SessionRec.Models.Featurization;
using SessionRec.Models.Serving;
using static TorchSharp.torch;

/// <summary>
/// Writes a trained <see cref="M2TRecModule"/> as two ONNX graphs (opset 17), op for op the same computation:
/// the item encoder (metadata ids → item vectors, run when the catalogue changes) and the session encoder (session
/// item vectors → session vector and category logits, run per request). The per-item residual, where trained,
/// is not part of the ID-free item encoder; it is exported beside it, keyed by item id.
/// </summary>
public static class OnnxExporter
{
    private const TensorProto.Types.DataType Int64 = TensorProto.Types.DataType.Int64;
    private const TensorProto.Types.DataType Float = TensorProto.Types.DataType.Float;

    public static byte[] ItemEncoder(TrainedModel model)
    {
        var options = model.Module.Options;
        if (!options.Metadata)
        {
            throw new InvalidOperationException("An ID-only model has no item encoder to export.");
        }

        var w = Weights(model.Module);
        var g = new OnnxGraphBuilder("item_encoder");
        g.Input(ModelContract.Brand, Int64, "items");
        g.Input(ModelContract.Categories, Int64, "items", ItemFeaturizer.Levels);
        g.Input(ModelContract.Title, Int64, "items", ItemFeaturizer.MaxTitleTokens);
        g.Input(ModelContract.Attributes, Int64, "items", ItemFeaturizer.MaxAttributes);
        g.Input(ModelContract.Price, Int64, "items");
        var f = options.FieldDim;
        var one = g.Scalar("one", 1f);
        var axis1 = g.Int64s("axis1", 1);
        var axisLast = g.Int64s("axis_last", -1);
        string Table(string name) => g.Initializer(name, w[name].Values, w[name].Shape);
        string Bag(string table, string input)
        {
            var embedded = g.Node("Gather", [Table(table), input]);
            var mask = g.Node("Cast", [g.Node("Not", [g.Node("Equal", [input, g.ScalarInt64(table + ".pad", ItemFeaturizer.Pad)])])], ("to", (long)Float));
            var sum = g.Node("ReduceSum", [g.Node("Mul", [embedded, g.Node("Unsqueeze", [mask, axisLast])]), axis1], ("keepdims", 0L));
            var count = g.Node("Max", [g.Node("ReduceSum", [mask, axis1], ("keepdims", 1L)), one]);
            return g.Node("Div", [sum, count]);
        }

        var parts = new List<string>();
        if (options.UseBrand)
        {
            parts.Add(g.Node("Gather", [Table("brand.weight"), ModelContract.Brand]));
        }

        if (options.UseCategories)
        {
            for (var l = 0; l < ItemFeaturizer.Levels; l++)
            {
                var level = g.Node("Gather", [ModelContract.Categories, g.ScalarInt64($"level{l}", l)], ("axis", 1L));
                parts.Add(g.Node("Gather", [Table($"categories.{l}.weight"), level]));
            }
        }

        if (options.UseTitle)
        {
            parts.Add(Bag("title.weight", ModelContract.Title));
        }

        if (options.UseAttributes)
        {
            parts.Add(Bag("attributes.weight", ModelContract.Attributes));
        }

        if (options.UsePrice)
        {
            parts.Add(g.Node("Gather", [Table("price.weight"), ModelContract.Price]));
        }

        var concat = g.Node("Concat", [.. parts], ("axis", 1L));
        var vectors = g.Linear(concat, "project", w["project.weight"].Values, w["project.bias"].Values, parts.Count * f, options.Dim);
        if (options.ItemTower == "mlp")
        {
            var hidden = Gelu(g, g.Linear(concat, "hidden", w["hidden.weight"].Values, w["hidden.bias"].Values, parts.Count * f, 2 * options.Dim));
            vectors = g.Node("Add", [vectors, g.Linear(hidden, "expand", w["expand.weight"].Values, w["expand.bias"].Values, 2 * options.Dim, options.Dim)]);
        }
        g.Node("Identity", [vectors], ModelContract.ItemVectors);
        g.Output(ModelContract.ItemVectors, Float, "items", options.Dim);
        return g.Build(ItemFeaturizer.Version);
    }

    public static byte[] SessionEncoder(TrainedModel model)
    {
        var options = model.Module.Options;
        var w = Weights(model.Module);
        var d = options.Dim;
        var g = new OnnxGraphBuilder("session_encoder");
        g.Input(ModelContract.SessionItems, Float, "batch", "length", d);
        g.Input(ModelContract.LastPosition, Int64, "batch");
        var raw = Backbone(g, w, options, ModelContract.SessionItems);
        SessionOutputs(g, model, raw);
        if (options.HasHeads)
        {
            g.Node("Identity", [Linear(g, w, raw, "primary")], ModelContract.PrimaryLogits);
            g.Output(ModelContract.PrimaryLogits, Float, "batch", w["primary.weight"].Shape[0]);
        }

        return g.Build(ItemFeaturizer.Version);
    }

    /// <summary>
    /// The round encoder of multi-round retrieval (rounds 2 and later, <see cref="MultiRound.RoundAdapters"/>):
    /// the session's item vectors, every earlier round's retrieved item vectors [batch, rounds·k, Dim] (round by
    /// round), the previous round's user vector and the GRU state before it → this round's session vector (as
    /// scored), its user vector and the GRU state after the previous round. The frequency filter is exported as
    /// the fixed per-dimension k × k matrices it computes.
    /// </summary>
    public static byte[] RoundEncoder(MultiRound.MultiRoundModel model)
    {
        var options = model.Model.Module.Options;
        var w = Weights(model.Model.Module);
        var a = Weights(model.Adapters);
        var d = options.Dim;
        var k = model.Options.PerRound;
        var g = new OnnxGraphBuilder("round_encoder");
        g.Input(ModelContract.SessionItems, Float, "batch", "length", d);
        g.Input(ModelContract.LastPosition, Int64, "batch");
        g.Input(ModelContract.Retrieved, Float, "batch", "retrieved", d);
        g.Input(ModelContract.PreviousUser, Float, "batch", d);
        g.Input(ModelContract.PreviousState, Float, "batch", d);

        // Item adapter: filter each round's k vectors along k, dense, residual, norm.
        float[] filter;
        using (TorchSharp.torch.no_grad())
        {
            using var matrices = model.Adapters.FilterMatrices().detach().contiguous();
            filter = matrices.data<float>().ToArray();
        }

        // Per dimension d: Y_d = X_d · M_dᵀ over the rounds' k positions, as one batched MatMul with d as the batch
        // axis.
        var transposedFilter = new float[filter.Length];
        for (var dim = 0; dim < d; dim++)
        {
            for (var j = 0; j < k; j++)
            {
                for (var source = 0; source < k; source++)
                {
                    transposedFilter[(((dim * k) + source) * k) + j] = filter[(((dim * k) + j) * k) + source];
                }
            }
        }

        var rounds = g.Node("Reshape", [ModelContract.Retrieved, g.Int64s("rounds_shape", -1, k, d)]);
        var byDimension = g.Node("Transpose", [rounds], ("perm", new long[] { 2, 0, 1 }));
        var filteredByDimension = g.Node("MatMul", [byDimension, g.Initializer("filter_matrices_t", transposedFilter, d, k, k)]);
        var filtered = g.Node("Transpose", [filteredByDimension], ("perm", new long[] { 1, 2, 0 }));
        var dense = Linear(g, a, filtered, "item_dense");
        var adapted = Norm(g, a, g.Node("Add", [dense, rounds]), "item_norm", d);
        var memoryShape = g.Node("Concat", [g.Node("Gather", [g.Node("Shape", [ModelContract.Retrieved]), g.Int64s("batch_index", 0)]), g.Int64s("memory_tail", -1, d)], ("axis", 0L));
        var memory = g.Node("Reshape", [adapted, memoryShape]);

        // The session attends to the memory.
        var attention = g.Node("Softmax", [g.Node("Mul", [g.Node("MatMul", [ModelContract.SessionItems, g.Node("Transpose", [memory], ("perm", new long[] { 0, 2, 1 }))]), g.Scalar("memory_scale", 1f / MathF.Sqrt(d))])], ("axis", -1L));
        var attended = g.Node("MatMul", [attention, memory]);
        var sequence = model.Adapters.Gated
            ? g.Node("Add", [ModelContract.SessionItems, g.Node("Mul", [g.Initializer("sequence_gate", a["sequence_gate"].Values, d), attended])])
            : Norm(g, a, g.Node("Add", [attended, ModelContract.SessionItems]), "attention_norm", d);
        var encoded = Backbone(g, w, options, sequence);

        // User adapter: one GRU step (PyTorch's gate order r, z, n), then the MLP with its residual.
        string Gate(string input, string matrix, string bias, int gate, string prefix)
        {
            var rows = a[matrix].Values.AsSpan(gate * d * d, d * d).ToArray();
            var b = a[bias].Values.AsSpan(gate * d, d).ToArray();
            return g.Linear(input, $"{prefix}_{gate}", rows, b, d, d);
        }

        var x = ModelContract.PreviousUser;
        var h = ModelContract.PreviousState;
        var r = g.Node("Sigmoid", [g.Node("Add", [Gate(x, "gru.weight_ih", "gru.bias_ih", 0, "gru_ih"), Gate(h, "gru.weight_hh", "gru.bias_hh", 0, "gru_hh")])]);
        var z = g.Node("Sigmoid", [g.Node("Add", [Gate(x, "gru.weight_ih", "gru.bias_ih", 1, "gru_ih"), Gate(h, "gru.weight_hh", "gru.bias_hh", 1, "gru_hh")])]);
        var n = g.Node("Tanh", [g.Node("Add", [Gate(x, "gru.weight_ih", "gru.bias_ih", 2, "gru_ih"), g.Node("Mul", [r, Gate(h, "gru.weight_hh", "gru.bias_hh", 2, "gru_hh")])])]);
        var one = g.Scalar("gru_one", 1f);
        var state = g.Node("Add", [g.Node("Mul", [g.Node("Sub", [one, z]), n]), g.Node("Mul", [z, h])], ModelContract.State);
        g.Output(ModelContract.State, Float, "batch", d);

        var hidden = Linear(g, a, g.Node("Relu", [Linear(g, a, g.Node("Concat", [encoded, state], ("axis", 1L)), "user_in")]), "user_out");
        var user = model.Adapters.Gated
            ? g.Node("Add", [encoded, g.Node("Mul", [g.Initializer("user_gate", a["user_gate"].Values, d), hidden])])
            : Norm(g, a, g.Node("Add", [hidden, encoded]), "user_norm", d);
        SessionOutputs(g, model.Model, user);
        return g.Build(ItemFeaturizer.Version);
    }

    /// <summary>
    /// The transformer over session inputs [batch, length, Dim] (positions added inside): the raw session vector
    /// [batch, Dim] at each session's last position.
    /// </summary>
    private static string Backbone(OnnxGraphBuilder g, Dictionary<string, (float[] Values, long[] Shape)> w, M2TRecOptions options, string input)
    {
        var d = options.Dim;
        var heads = options.Heads;
        var zero = g.Int64s("zero", 0);
        var zeroZero = g.Int64s("zero_zero", 0, 0);
        var axis1 = g.Int64s("axis1", 1);
        var length = g.Node("Gather", [g.Node("Shape", [input]), g.Int64s("one_index", 1)]);
        var positions = g.Node("Slice", [g.Initializer("positions.weight", w["positions.weight"].Values, w["positions.weight"].Shape), zero, length, zero]);
        var x = g.Node("Add", [input, positions]);

        var causal = new float[options.MaxLength * options.MaxLength];
        for (var i = 0; i < options.MaxLength; i++)
        {
            for (var j = i + 1; j < options.MaxLength; j++)
            {
                causal[(i * options.MaxLength) + j] = -1e9f;
            }
        }

        var lengthPair = g.Node("Concat", [length, length], ("axis", 0L));
        var mask = g.Node("Slice", [g.Initializer("causal_mask", causal, options.MaxLength, options.MaxLength), zeroZero, lengthPair]);
        var splitShape = g.Int64s("split_heads", 0, 0, heads, d / heads);
        var mergeShape = g.Int64s("merge_heads", 0, 0, d);
        var scale = g.Scalar("attention_scale", 1f / MathF.Sqrt(d / heads));

        for (var b = 0; b < options.Layers; b++)
        {
            var p = $"blocks.{b}";
            var h = Norm(g, w, x, p + ".norm1", d);
            var q = g.Node("Transpose", [g.Node("Reshape", [Linear(g, w, h, p + ".query"), splitShape])], ("perm", new long[] { 0, 2, 1, 3 }));
            var k = g.Node("Transpose", [g.Node("Reshape", [Linear(g, w, h, p + ".key"), splitShape])], ("perm", new long[] { 0, 2, 3, 1 }));
            var v = g.Node("Transpose", [g.Node("Reshape", [Linear(g, w, h, p + ".value"), splitShape])], ("perm", new long[] { 0, 2, 1, 3 }));
            var scores = g.Node("Add", [g.Node("Mul", [g.Node("MatMul", [q, k]), scale]), mask]);
            var context = g.Node("MatMul", [g.Node("Softmax", [scores], ("axis", -1L)), v]);
            var merged = g.Node("Reshape", [g.Node("Transpose", [context], ("perm", new long[] { 0, 2, 1, 3 })), mergeShape]);
            x = g.Node("Add", [x, Linear(g, w, merged, p + ".output")]);
            var f1 = Linear(g, w, Norm(g, w, x, p + ".norm2", d), p + ".ff1");
            x = g.Node("Add", [x, Linear(g, w, Gelu(g, f1), p + ".ff2")]);
        }

        x = Norm(g, w, x, "final_norm", d);
        if (options.Pooling == "mean")
        {
            var counts = Enumerable.Range(1, options.MaxLength).Select(i => (float)i).ToArray();
            var divisor = g.Node("Slice", [g.Initializer("position_counts", counts, 1, options.MaxLength, 1), zero, length, axis1]);
            x = g.Node("Div", [g.Node("CumSum", [x, g.ScalarInt64("cumsum_axis", 1)]), divisor]);
        }

        // session[b] = x[b, last[b], :]
        var index = g.Node("Unsqueeze", [g.Node("Unsqueeze", [ModelContract.LastPosition, g.Int64s("axis_1", 1)]), g.Int64s("axis_2", 2)]);
        var expandShape = g.Node("Concat", [g.Node("Gather", [g.Node("Shape", [x]), zero]), g.Int64s("one_dim", 1), g.Int64s("model_dim", d)], ("axis", 0L));
        var gathered = g.Node("GatherElements", [x, g.Node("Expand", [index, expandShape])], ("axis", 1L));
        return g.Node("Squeeze", [gathered, axis1]);
    }

    /// <summary>Outputs <c>session</c> (the vector as scored) and <c>user</c> (raw, what the next round's GRU reads).</summary>
    private static void SessionOutputs(OnnxGraphBuilder g, TrainedModel model, string raw)
    {
        var d = model.Module.Options.Dim;
        var session = raw;
        if (model.Module.Options.Scoring == "cosine")
        {
            // Unit length times the learned scale: the score is then scale · cosine (item rows are normalised by the server).
            var norm = g.Node("Max", [g.Node("ReduceL2", [session], ("axes", new long[] { -1 }), ("keepdims", 1L)), g.Scalar("norm_floor", 1e-6f)]);
            session = g.Node("Mul", [g.Node("Div", [session, norm]), g.Scalar("cosine_scale", model.Module.Scale)]);
        }

        g.Node("Identity", [session], ModelContract.Session);
        g.Output(ModelContract.Session, Float, "batch", d);
        g.Node("Identity", [raw], ModelContract.User);
        g.Output(ModelContract.User, Float, "batch", d);
    }

    private static string Norm(OnnxGraphBuilder g, Dictionary<string, (float[] Values, long[] Shape)> w, string input, string prefix, int d) =>
        g.Node("LayerNormalization", [input, g.Initializer(prefix + ".weight", w[prefix + ".weight"].Values, d), g.Initializer(prefix + ".bias", w[prefix + ".bias"].Values, d)], ("axis", -1L), ("epsilon", 1e-5f));

    private static string Linear(OnnxGraphBuilder g, Dictionary<string, (float[] Values, long[] Shape)> w, string input, string prefix) =>
        g.Linear(input, prefix, w[prefix + ".weight"].Values, w[prefix + ".bias"].Values, (int)w[prefix + ".weight"].Shape[1], (int)w[prefix + ".weight"].Shape[0]);

    /// <summary>Exact GELU: 0.5 · x · (1 + erf(x / √2)), as TorchSharp's default.</summary>
    private static string Gelu(OnnxGraphBuilder g, string x)
    {
        var half = g.Node("Mul", [x, g.Scalar($"half_{x}", 0.5f)]);
        var erf = g.Node("Erf", [g.Node("Div", [x, g.Scalar($"sqrt2_{x}", MathF.Sqrt(2f))])]);
        return g.Node("Mul", [half, g.Node("Add", [g.Scalar($"one_{x}", 1f), erf])]);
    }

    /// <summary>
    /// The rows (item indexes) that have a residual and their vectors [rows, Dim], or null when the model has none:
    /// an item whose gate is closed is served by its metadata vector alone, so it is left out.
    /// </summary>
    public static (int[] Rows, float[] Vectors)? Residuals(TrainedModel model)
    {
        if (model.Module.Residuals() is not { } residuals)
        {
            return null;
        }

        using (residuals)
        {
            var all = residuals.contiguous().data<float>().ToArray();
            var dim = model.Module.Options.Dim;
            var open = model.Module.ResidualItems();
            int[] rows = [.. Enumerable.Range(0, model.Module.ItemCount).Where(row => open[row])];
            if (rows.Length == 0)
            {
                return null; // the kept epoch is the pure model's
            }

            var vectors = new float[rows.Length * dim];
            for (var i = 0; i < rows.Length; i++)
            {
                Array.Copy(all, rows[i] * dim, vectors, i * dim, dim);
            }

            return (rows, vectors);
        }
    }

    private static Dictionary<string, (float[] Values, long[] Shape)> Weights(TorchSharp.torch.nn.Module module)
    {
        var result = new Dictionary<string, (float[], long[])>(StringComparer.Ordinal);
        foreach (var (name, tensor) in module.state_dict())
        {
            using var t = tensor.detach().contiguous().to_type(ScalarType.Float32);
            result[name] = (t.data<float>().ToArray(), t.shape);
        }

        return result;
    }
}
