using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/SessionRec.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(SessionRec.Benchmarks.ScoringBenchmarks).Assembly).Run(args);
