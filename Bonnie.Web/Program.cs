using Bonnie.Elasticsearch;
using Bonnie.Pipeline.Hosting;
using Bonnie.Pipeline.Storage;
using Bonnie.Web.Api;
using Bonnie.Web.Hosting;
using Bonnie.Web.Security;

var builder = WebApplication.CreateBuilder(args);
builder.AddBonnieWeb();
builder.AddBonniePipeline();
builder.AddBonnieStore();
// Bonnie:Store:Kind=Elasticsearch: the same contract on a cluster (payloads stay in the store directory).
if (builder.UsesElasticsearchStore())
{
    builder.AddBonnieElasticsearchStore();
}
builder.AddBonnieSecurity();

var app = builder.Build();
app.UseBonnieWeb();
app.MapBonnieApi();
app.MapGet("/api/health", () => Results.Ok(new { status = "ok" })).AllowAnonymous();
app.Run();

/// <summary>The entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
