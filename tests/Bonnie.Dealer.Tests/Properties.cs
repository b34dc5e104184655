using System.Runtime.Versioning;

// The dealer under test is Linux-only (Cyrus hosts): so are its tests.
[assembly: SupportedOSPlatform("linux")]

// Each test starts real processes and some measure how long Cyrus would wait: running them side by side on
// two cores would measure the machine, not the dealer. The whole project takes seconds in sequence.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
