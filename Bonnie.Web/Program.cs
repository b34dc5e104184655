using Bonnie.Pipeline.Backfill;
using Bonnie.Pipeline.Hosting;
using Bonnie.Pipeline.Storage;
using Bonnie.Web.Api;
using Bonnie.Web.Hosting;
using Bonnie.Web.Security;

var builder = WebApplication.CreateBuilder(args);
builder.AddBonnieWeb();
builder.AddBonniePipeline();
builder.AddBonnieStore();
builder.AddBonnieBackfill();
builder.AddBonnieSecurity();

var app = builder.Build();
app.UseBonnieWeb();
app.MapBonnieApi();
app.MapBonnieBackfill();
app.MapGet("/api/health", () => Results.Ok(new { status = "ok" })).AllowAnonymous();
app.Run();

/// <summary>The entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
