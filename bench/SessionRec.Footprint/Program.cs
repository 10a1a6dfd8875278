// What the click log costs to keep, per event and per million dedup ids (facts of docs/results/bench-ingest.json).
// dotnet run -c Release --project bench/SessionRec.Footprint -- [--events 200000] [--users 5000] [--json docs/results/bench-ingest.json]
return SessionRec.Footprint.LogFootprint.Run(args);
