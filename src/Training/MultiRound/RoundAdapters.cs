namespace SessionRec.Training.MultiRound;

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

/// <summary>
/// Ada-Retrieval's two adapters (methods.md §2), applied from round 2 on around the base session encoder.
/// Item adapter: each earlier round's k retrieved item vectors pass a learnable frequency filter along the k axis
/// (rFFT, times a complex weight per frequency and dimension, iRFFT), then LayerNorm(Dropout(Dense(.)) + input);
/// the session's item vectors attend to all of them: E' = LayerNorm(Dropout(softmax(E·Cᵀ/√d)·C) + E).
/// User adapter: a GRU over the earlier rounds' user vectors, then u = LayerNorm(Dropout(W2·ReLU(W1·[u⁰; c])) + u⁰).
/// The filter is computed as the circulant matrix it is (one k × k matrix per dimension), so training and the
/// ONNX export run the same real arithmetic; a test checks it against TorchSharp's rfft/irfft.
/// Every operation here has an ONNX counterpart in <see cref="Export.OnnxExporter.RoundEncoder"/>.
/// </summary>
public sealed class RoundAdapters : nn.Module
{
    private readonly int _dim;
    private readonly int _perRound;

    /// <param name="gated">
    /// Our backbone has no LayerNorm on its input (pre-norm blocks read the raw item vectors), so the published
    /// LayerNorms on the sequence and user residuals change the scale of what the transformer and the scoring see
    /// from round 2 on. Gated (the default): <c>E' = E + g_e ⊙ Dropout(attention)</c> and
    /// <c>u = u⁰ + g_u ⊙ Dropout(h)</c> with per-dimension gates starting at zero, so round t starts as exactly the
    /// next k of round 1's ranking and fine-tuning moves away from it only where that helps. Ungated: the published form.
    /// </param>
    public RoundAdapters(int dim, int perRound, double dropout, bool gated = true)
        : base("round_adapters")
    {
        _dim = dim;
        _perRound = perRound;
        Gated = gated;
        var frequencies = (perRound / 2) + 1;
        // The published initialisation: a small random complex weight; the residual after the dense layer keeps
        // the retrieved vectors themselves flowing from the start.
        filter_real = nn.Parameter(randn(frequencies, dim) * 0.02f);
        filter_imag = nn.Parameter(randn(frequencies, dim) * 0.02f);
        item_dense = nn.Linear(dim, dim);
        item_norm = nn.LayerNorm(dim);
        gru = nn.GRUCell(dim, dim);
        user_in = nn.Linear(2 * dim, dim);
        user_out = nn.Linear(dim, dim);
        drop = nn.Dropout(dropout);
        if (gated)
        {
            sequence_gate = nn.Parameter(zeros(dim));
            user_gate = nn.Parameter(zeros(dim));
        }
        else
        {
            attention_norm = nn.LayerNorm(dim);
            user_norm = nn.LayerNorm(dim);
        }

        RegisterComponents();
    }

#pragma warning disable IDE1006, SA1300 // Field names are the parameter names in state dicts and the exporter.
    private readonly TorchSharp.Modules.Parameter filter_real;
    private readonly TorchSharp.Modules.Parameter filter_imag;
    private readonly Linear item_dense;
    private readonly LayerNorm item_norm;
    private readonly LayerNorm? attention_norm;
    private readonly GRUCell gru;
    private readonly Linear user_in;
    private readonly Linear user_out;
    private readonly LayerNorm? user_norm;
    private readonly Dropout drop;
    private readonly TorchSharp.Modules.Parameter? sequence_gate;
    private readonly TorchSharp.Modules.Parameter? user_gate;
#pragma warning restore IDE1006, SA1300

    public int PerRound => _perRound;

    public bool Gated { get; }

    /// <summary>
    /// The filter as matrices [Dim, k, k]: out[j] = Σₙ M[d, j, n] · in[n] along the k axis of each dimension d.
    /// iRFFT(W ⊙ rFFT(x)) is a circular convolution: M[j, n] = (1/k) Σ_f c_f (a_f cos θ − b_f sin θ) with
    /// θ = 2πf(j − n)/k, W = a + ib, c_f = 1 for the DC and (k even) Nyquist terms and 2 otherwise — iRFFT drops
    /// the imaginary part of those two, and sin θ is 0 there, so the formula drops it too.
    /// </summary>
    public Tensor FilterMatrices()
    {
        var (cosines, sines) = FilterBases(_perRound);
        using var c = tensor(cosines, [cosines.Length / (_perRound * _perRound), _perRound * _perRound]);
        using var s = tensor(sines, [sines.Length / (_perRound * _perRound), _perRound * _perRound]);
        var flat = filter_real.t().matmul(c) + filter_imag.t().matmul(s);
        return flat.view(_dim, _perRound, _perRound);
    }

    /// <summary>cos and −sin bases [F, k·k] with the 1/k and c_f factors folded in.</summary>
    public static (float[] Cosines, float[] Sines) FilterBases(int k)
    {
        var frequencies = (k / 2) + 1;
        var cosines = new float[frequencies * k * k];
        var sines = new float[frequencies * k * k];
        for (var f = 0; f < frequencies; f++)
        {
            var weight = (f == 0 || (k % 2 == 0 && f == k / 2) ? 1.0 : 2.0) / k;
            for (var j = 0; j < k; j++)
            {
                for (var n = 0; n < k; n++)
                {
                    var theta = 2 * Math.PI * f * (j - n) / k;
                    cosines[(f * k * k) + (j * k) + n] = (float)(weight * Math.Cos(theta));
                    sines[(f * k * k) + (j * k) + n] = (float)(-weight * Math.Sin(theta));
                }
            }
        }

        return (cosines, sines);
    }

    /// <summary>The frequency filter alone on [B, R, k, Dim] (for the FFT check).</summary>
    public Tensor Filter(Tensor rounds) => einsum("djn,brnd->brjd", FilterMatrices(), rounds);

    /// <summary>Earlier rounds' item vectors [B, R, k, Dim] → the memory the session attends to [B, R·k, Dim].</summary>
    public Tensor AdaptItems(Tensor rounds)
    {
        var filtered = Filter(rounds);
        var adapted = item_norm.forward(drop.forward(item_dense.forward(filtered)) + rounds);
        return adapted.reshape(rounds.shape[0], rounds.shape[1] * rounds.shape[2], _dim);
    }

    /// <summary>The session's item vectors [B, L, Dim] attending to the memory [B, M, Dim].</summary>
    public Tensor AdaptSequence(Tensor sequence, Tensor memory)
    {
        var weights = (sequence.matmul(memory.transpose(1, 2)) / Math.Sqrt(_dim)).softmax(-1);
        var attended = drop.forward(weights.matmul(memory));
        return sequence_gate is null ? attention_norm!.forward(attended + sequence) : sequence + (sequence_gate * attended);
    }

    /// <summary>One GRU step over the previous round's user vector: the state before round t from the state before t − 1.</summary>
    public Tensor Step(Tensor previousUser, Tensor state) => gru.forward(previousUser, state);

    /// <summary>The round's user vector from the encoder's output u⁰ [B, Dim] and the GRU state c [B, Dim].</summary>
    public Tensor AdaptUser(Tensor encoded, Tensor state)
    {
        var h = drop.forward(user_out.forward(nn.functional.relu(user_in.forward(cat([encoded, state], 1)))));
        return user_gate is null ? user_norm!.forward(h + encoded) : encoded + (user_gate * h);
    }
}
