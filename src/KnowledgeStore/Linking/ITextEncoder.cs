namespace SessionRec.KnowledgeStore.Linking;

/// <summary>Sentence vectors, unit length, so a dot product is the cosine.</summary>
public interface ITextEncoder
{
    int Dimension { get; }

    float[][] Encode(IReadOnlyList<string> texts, CancellationToken cancellationToken = default);
}

public static class Vectors
{
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => System.Numerics.Tensors.TensorPrimitives.Dot(a, b);
}
