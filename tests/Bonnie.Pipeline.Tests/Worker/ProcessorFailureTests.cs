using System.Text;
using Bonnie.Pipeline.Storage.Embedded;
using Bonnie.Pipeline.Tests.Storage;
using Bonnie.Pipeline.Worker;
using Bonnie.Pipeline.Worker.Handlers;
using Bonnie.Pipeline.Worker.Payloads;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bonnie.Pipeline.Tests.Worker;

public sealed class ProcessorFailureTests
{
    [Fact]
    public async Task ProcessBatchAsync_HandlerThrows_ThatJobFailedAndQuarantinedTheRestStored()
    {
        await using var p = await TestPipeline.CreateAsync();
        var fetcher = new PayloadFetcher([], p.Payloads, new PayloadOptions { MaxAttempts = 1 }, NullLogger<PayloadFetcher>.Instance);
        var processor = new StoreJobProcessor(p.Store, [new FolderHandler(), new MessageHandler(), new BrokenDeleteHandler()], fetcher, p.Time,
            NullLogger<StoreJobProcessor>.Instance);
        var jobs = new[] { Fixture.Event("MailboxCreate"), Fixture.Event("MailboxDelete"), Fixture.Event("MessageNew") }.Select(j => TestPipeline.JobFor(j)).ToList();

        var outcomes = await processor.ProcessBatchAsync(jobs);

        Assert.IsType<JobOutcome.Done>(outcomes[0]);
        Assert.Contains("bug in a handler", Assert.IsType<JobOutcome.Fail>(outcomes[1]).Reason, StringComparison.Ordinal);
        Assert.IsType<JobOutcome.Done>(outcomes[2]);
        Assert.NotNull(await p.Store.GetEventAsync(jobs[0].Id));
        Assert.Null(await p.Store.GetEventAsync(jobs[1].Id));
        Assert.NotNull(await p.Store.GetEventAsync(jobs[2].Id));
        Assert.Null(await p.Store.GetFolderAsync("half-way"));
        var failed = Assert.Single((await p.Store.GetQuarantineAsync(10, null)).Items);
        Assert.Equal(("failed", jobs[1].Id), (failed.Stage, failed.JobId));
        // A failed job is not "processed": once the bug is fixed, a retry stores it.
        Assert.Empty(await p.Store.FindProcessedJobsAsync([jobs[1].Id]));
    }

    [Fact]
    public async Task ProcessBatchAsync_ANotificationWhoseUserIsNotUtf8_QuarantinedAsUnreadable_TheRestStored()
    {
        await using var p = await TestPipeline.CreateAsync();
        var login = Encoding.UTF8.GetBytes(Fixture.Event("Login").Replace("\"user\":\"cyrus\"", "\"user\":\"latXn1\"", StringComparison.Ordinal));
        login[Array.IndexOf(login, (byte)'X')] = 0xe9;
        var jobs = new[] { TestPipeline.JobFor(login), TestPipeline.JobFor(Fixture.Event("MailboxCreate")) };

        var outcomes = await p.Processor.ProcessBatchAsync(jobs);

        Assert.All(outcomes, o => Assert.IsType<JobOutcome.Done>(o));
        var item = Assert.Single((await p.Store.GetQuarantineAsync(10, null)).Items);
        Assert.Equal(("parse", jobs[0].Id), (item.Stage, item.JobId));
        Assert.Contains("UTF-8", item.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(login, item.Raw.ToArray());
        Assert.NotNull(await p.Store.GetEventAsync(jobs[1].Id));
    }

    [Fact]
    public void Validate_BadStoreAndPayloadOptions_EveryErrorReported()
    {
        var store = new ValidateEmbeddedStoreOptions().Validate(null, new EmbeddedStoreOptions { Directory = " ", CacheSizeMegabytes = 0 });
        var payloads = new ValidatePayloadOptions().Validate(null, new PayloadOptions
        {
            MaxAttempts = 0,
            Imap = new ImapPayloadOptions { Host = "imap.example.org", Port = 0, Security = "Maybe" },
        });

        Assert.Equal(2, store.Failures!.Count());
        Assert.Equal(4, payloads.Failures!.Count());
        Assert.Contains(payloads.Failures!, f => f.Contains("Bonnie:Payloads:Imap:Password is required", StringComparison.Ordinal));
        Assert.True(new ValidatePayloadOptions().Validate(null, new PayloadOptions()).Succeeded);
    }

    [Fact]
    public void Validate_TrustedCertificateMissingOrWithoutCertificate_RefusedAtStartWithTheFile()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"bonnie-missing-{Guid.NewGuid():N}.pem");
        var notPem = Path.GetTempFileName();
        File.WriteAllText(notPem, "this is a key file, not a certificate\n");
        try
        {
            PayloadOptions With(string file) => new()
            {
                Imap = new ImapPayloadOptions { Host = "imap.example.org", Password = "secret", TrustedCertificate = file },
            };

            var missingResult = new ValidatePayloadOptions().Validate(null, With(missing));
            var notPemResult = new ValidatePayloadOptions().Validate(null, With(notPem));

            Assert.Contains(missingResult.Failures!, f => f.StartsWith("Bonnie:Payloads:Imap:TrustedCertificate", StringComparison.Ordinal) && f.Contains(missing, StringComparison.Ordinal));
            Assert.Contains(notPemResult.Failures!, f => f.Contains("holds no PEM certificate", StringComparison.Ordinal));

            // A usable file with a connection without TLS: it would never be used, which is a mistake to say at start.
            using (var key = System.Security.Cryptography.ECDsa.Create())
            {
                var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=ca", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
                using var ca = request.CreateSelfSigned(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(1));
                File.WriteAllText(notPem, ca.ExportCertificatePem());
            }
            var plain = With(notPem);
            plain.Imap.Security = "None";
            Assert.True(new ValidatePayloadOptions().Validate(null, With(notPem)).Succeeded);
            Assert.Contains(new ValidatePayloadOptions().Validate(null, plain).Failures!, f => f.Contains("Security is None", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(notPem);
        }
    }
}
