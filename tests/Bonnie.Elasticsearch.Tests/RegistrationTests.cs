using Bonnie.Shared.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Bonnie.Elasticsearch.Tests;

public sealed class RegistrationTests
{
    private static HostApplicationBuilder Builder(params (string Key, string Value)[] settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));
        return builder;
    }

    [Fact]
    public void AddBonnieElasticsearchStore_AfterTheEmbeddedStore_ReplacesTheStore()
    {
        var builder = Builder(("Bonnie:Store:Kind", "Elasticsearch"), ("Bonnie:Elasticsearch:Nodes:0", "http://127.0.0.1:9"));
        builder.Services.AddSingleton<IBonnieStore>(_ => throw new InvalidOperationException("the embedded store must not be built"));

        builder.AddBonnieElasticsearchStore();
        using var host = builder.Build();

        Assert.IsType<ElasticsearchStore>(host.Services.GetRequiredService<IBonnieStore>());
        Assert.Single(builder.Services, d => d.ServiceType == typeof(IBonnieStore));
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("Embedded", false)]
    [InlineData("elasticsearch", true)]
    public void UsesElasticsearchStore_Kind_ChoosesTheStore(string? kind, bool expected)
    {
        var builder = kind is null ? Builder() : Builder(("Bonnie:Store:Kind", kind));

        Assert.Equal(expected, builder.UsesElasticsearchStore());
    }

    [Fact]
    public void UsesElasticsearchStore_UnknownKind_ErrorNamesIt()
    {
        var ex = Assert.Throws<OptionsValidationException>(() => Builder(("Bonnie:Store:Kind", "Mongo")).UsesElasticsearchStore());

        Assert.Contains("'Mongo'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_SeveralMistakes_EveryOneReported()
    {
        var options = new ElasticsearchStoreOptions
        {
            Nodes = ["es1:9200"],
            IndexPrefix = "Bonnie*",
            ApiKey = "k",
            UserName = "elastic",
            Password = "s3cret-value",
            MaxAttempts = 0,
        };

        var result = new ValidateElasticsearchStoreOptions().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Equal(4, result.Failures!.Count());
        Assert.Contains(result.Failures!, f => f.Contains("Nodes:0", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("IndexPrefix", StringComparison.Ordinal));
        Assert.DoesNotContain(result.Failures!, f => f.Contains("s3cret-value", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_NoNodes_TellsHowToSetThem()
    {
        var result = new ValidateElasticsearchStoreOptions().Validate(null, new ElasticsearchStoreOptions());

        Assert.Contains("Bonnie__Elasticsearch__Nodes__0", result.FailureMessage, StringComparison.Ordinal);
    }
}
