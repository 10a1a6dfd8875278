using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/SessionRec.Benchmarks -- --filter '*' --job short --inProcess
// (in-process: a BenchmarkDotNet child build would load a second copy of libtorch, which aborts)
BenchmarkSwitcher.FromAssembly(typeof(SessionRec.Benchmarks.ScoringBenchmarks).Assembly).Run(args);
