using Bonnie.Collector;

// The collector runs on the IMAP host, beside Cyrus: see docs/collector.md.
var builder = Host.CreateApplicationBuilder(args);
builder.Configuration.AddJsonFile("/etc/bonnie/collector.json", optional: true);
builder.AddBonnieCollector();
await builder.Build().RunAsync();
