namespace SessionRec.Training.Export;

using Google.Protobuf;
using Onnx;

/// <summary>A small helper for writing ONNX graphs by hand: named nodes, initializers and typed inputs/outputs.</summary>
internal sealed class OnnxGraphBuilder(string name)
{
    public const int Opset = 17;

    private readonly GraphProto _graph = new() { Name = name };
    private int _counter;

    public string Initializer(string initializerName, float[] values, params long[] dims)
    {
        var tensor = new TensorProto { Name = initializerName, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange(dims);
        var bytes = new byte[values.Length * sizeof(float)];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        tensor.RawData = ByteString.CopyFrom(bytes);
        _graph.Initializer.Add(tensor);
        return initializerName;
    }

    public string Int64s(string initializerName, params long[] values)
    {
        var tensor = new TensorProto { Name = initializerName, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Dims.Add(values.Length);
        tensor.Int64Data.AddRange(values);
        _graph.Initializer.Add(tensor);
        return initializerName;
    }

    public string Scalar(string initializerName, float value)
    {
        var tensor = new TensorProto { Name = initializerName, DataType = (int)TensorProto.Types.DataType.Float };
        tensor.FloatData.Add(value);
        _graph.Initializer.Add(tensor);
        return initializerName;
    }

    public string ScalarInt64(string initializerName, long value)
    {
        var tensor = new TensorProto { Name = initializerName, DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Int64Data.Add(value);
        _graph.Initializer.Add(tensor);
        return initializerName;
    }

    public void Input(string inputName, TensorProto.Types.DataType type, params object[] dims) => _graph.Input.Add(Value(inputName, type, dims));

    public void Output(string outputName, TensorProto.Types.DataType type, params object[] dims) => _graph.Output.Add(Value(outputName, type, dims));

    /// <summary>Adds a node with one output and returns the output's name.</summary>
    public string Node(string op, string[] inputs, params (string Name, object Value)[] attributes) =>
        Node(op, inputs, null, attributes);

    public string Node(string op, string[] inputs, string? output, params (string Name, object Value)[] attributes)
    {
        output ??= $"{op.ToLowerInvariant()}_{_counter++}";
        var node = new NodeProto { OpType = op, Name = $"{op}_{_counter++}" };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        foreach (var (attributeName, value) in attributes)
        {
            var attribute = new AttributeProto { Name = attributeName };
            switch (value)
            {
                case long l:
                    attribute.Type = AttributeProto.Types.AttributeType.Int;
                    attribute.I = l;
                    break;
                case int i:
                    attribute.Type = AttributeProto.Types.AttributeType.Int;
                    attribute.I = i;
                    break;
                case float f:
                    attribute.Type = AttributeProto.Types.AttributeType.Float;
                    attribute.F = f;
                    break;
                case string text:
                    attribute.Type = AttributeProto.Types.AttributeType.String;
                    attribute.S = ByteString.CopyFromUtf8(text);
                    break;
                case long[] ls:
                    attribute.Type = AttributeProto.Types.AttributeType.Ints;
                    attribute.Ints.AddRange(ls);
                    break;
                default:
                    throw new ArgumentException($"Unsupported attribute type {value.GetType()}.");
            }

            node.Attribute.Add(attribute);
        }

        _graph.Node.Add(node);
        return output;
    }

    /// <summary>x · Wᵀ + b for a TorchSharp Linear weight [out, in] (stored transposed as [in, out]).</summary>
    public string Linear(string x, string prefix, float[] weight, float[] bias, int inFeatures, int outFeatures)
    {
        var transposed = new float[weight.Length];
        for (var o = 0; o < outFeatures; o++)
        {
            for (var i = 0; i < inFeatures; i++)
            {
                transposed[(i * outFeatures) + o] = weight[(o * inFeatures) + i];
            }
        }

        var w = Initializer(prefix + ".weight_t", transposed, inFeatures, outFeatures);
        var b = Initializer(prefix + ".bias", bias, outFeatures);
        return Node("Add", [Node("MatMul", [x, w]), b]);
    }

    public byte[] Build(string producerVersion)
    {
        var model = new ModelProto
        {
            IrVersion = 8,
            ProducerName = "sessionrec",
            ProducerVersion = producerVersion,
            Graph = _graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        return model.ToByteArray();
    }

    private static ValueInfoProto Value(string valueName, TensorProto.Types.DataType type, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
        {
            shape.Dim.Add(d is string s ? new TensorShapeProto.Types.Dimension { DimParam = s } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d, System.Globalization.CultureInfo.InvariantCulture) });
        }

        return new ValueInfoProto
        {
            Name = valueName,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }
}
