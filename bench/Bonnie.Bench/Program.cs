// Benchmarks report ratios against a baseline measured in the same invocation (see bench/README.md).
return Bonnie.Bench.BenchCommands.Run(args);
