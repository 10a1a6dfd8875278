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
        var heads = options.Heads;
        var g = new OnnxGraphBuilder("session_encoder");
        g.Input(ModelContract.SessionItems, Float, "batch", "length", d);
        g.Input(ModelContract.LastPosition, Int64, "batch");

        var zero = g.Int64s("zero", 0);
        var zeroZero = g.Int64s("zero_zero", 0, 0);
        var axis1 = g.Int64s("axis1", 1);
        var length = g.Node("Gather", [g.Node("Shape", [ModelContract.SessionItems]), g.Int64s("one_index", 1)]);
        var positions = g.Node("Slice", [g.Initializer("positions.weight", w["positions.weight"].Values, w["positions.weight"].Shape), zero, length, zero]);
        var x = g.Node("Add", [ModelContract.SessionItems, positions]);

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

        string Norm(string input, string prefix) =>
            g.Node("LayerNormalization", [input, g.Initializer(prefix + ".weight", w[prefix + ".weight"].Values, d), g.Initializer(prefix + ".bias", w[prefix + ".bias"].Values, d)], ("axis", -1L), ("epsilon", 1e-5f));
        string Linear(string input, string prefix) =>
            g.Linear(input, prefix, w[prefix + ".weight"].Values, w[prefix + ".bias"].Values, (int)w[prefix + ".weight"].Shape[1], (int)w[prefix + ".weight"].Shape[0]);

        for (var b = 0; b < options.Layers; b++)
        {
            var p = $"blocks.{b}";
            var h = Norm(x, p + ".norm1");
            var q = g.Node("Transpose", [g.Node("Reshape", [Linear(h, p + ".query"), splitShape])], ("perm", new long[] { 0, 2, 1, 3 }));
            var k = g.Node("Transpose", [g.Node("Reshape", [Linear(h, p + ".key"), splitShape])], ("perm", new long[] { 0, 2, 3, 1 }));
            var v = g.Node("Transpose", [g.Node("Reshape", [Linear(h, p + ".value"), splitShape])], ("perm", new long[] { 0, 2, 1, 3 }));
            var scores = g.Node("Add", [g.Node("Mul", [g.Node("MatMul", [q, k]), scale]), mask]);
            var context = g.Node("MatMul", [g.Node("Softmax", [scores], ("axis", -1L)), v]);
            var merged = g.Node("Reshape", [g.Node("Transpose", [context], ("perm", new long[] { 0, 2, 1, 3 })), mergeShape]);
            x = g.Node("Add", [x, Linear(merged, p + ".output")]);
            var f1 = Linear(Norm(x, p + ".norm2"), p + ".ff1");
            x = g.Node("Add", [x, Linear(Gelu(g, f1), p + ".ff2")]);
        }

        x = Norm(x, "final_norm");
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
        var raw = g.Node("Squeeze", [gathered, axis1]);
        var session = raw;
        if (options.Scoring == "cosine")
        {
            // Unit length times the learned scale: the score is then scale · cosine (item rows are normalised by the server).
            var norm = g.Node("Max", [g.Node("ReduceL2", [session], ("axes", new long[] { -1 }), ("keepdims", 1L)), g.Scalar("norm_floor", 1e-6f)]);
            session = g.Node("Mul", [g.Node("Div", [session, norm]), g.Scalar("cosine_scale", model.Module.Scale)]);
        }

        g.Node("Identity", [session], ModelContract.Session);
        g.Output(ModelContract.Session, Float, "batch", d);
        if (options.HasHeads)
        {
            g.Node("Identity", [Linear(raw, "primary")], ModelContract.PrimaryLogits);
            g.Output(ModelContract.PrimaryLogits, Float, "batch", w["primary.weight"].Shape[0]);
        }

        return g.Build(ItemFeaturizer.Version);
    }

    /// <summary>Exact GELU: 0.5 · x · (1 + erf(x / √2)), as TorchSharp's default.</summary>
    private static string Gelu(OnnxGraphBuilder g, string x)
    {
        var half = g.Node("Mul", [x, g.Scalar($"half_{x}", 0.5f)]);
        var erf = g.Node("Erf", [g.Node("Div", [x, g.Scalar($"sqrt2_{x}", MathF.Sqrt(2f))])]);
        return g.Node("Mul", [half, g.Node("Add", [g.Scalar($"one_{x}", 1f), erf])]);
    }

    /// <summary>The per-item residual vectors [items, Dim], or null when the model has none.</summary>
    public static float[]? Residuals(TrainedModel model) =>
        model.Module.Options is { Metadata: true, IdResidual: true } ? Weights(model.Module)["ids.weight"].Values : null;

    private static Dictionary<string, (float[] Values, long[] Shape)> Weights(M2TRecModule module)
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
