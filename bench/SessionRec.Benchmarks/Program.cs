using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/SessionRec.Benchmarks -- --filter '*' --job short --inProcess
// (in-process: a BenchmarkDotNet child build would load a second copy of libtorch, which aborts)
// dotnet run -c Release --project bench/SessionRec.Benchmarks -- ann-recall --model <folder> [--add-items N] ...
// dotnet run -c Release --project bench/SessionRec.Benchmarks -- candidate-timing [--rows 1000000]
if (args.Length > 0 && args[0] == "ann-recall")
{
    return SessionRec.Benchmarks.AnnRecall.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "candidate-timing")
{
    return SessionRec.Benchmarks.CandidateTiming.Run(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(SessionRec.Benchmarks.ScoringBenchmarks).Assembly).Run(args);
return 0;
