using System.Security.Cryptography;
using Bonnie.Web.Audit;
using Bonnie.Web.Security;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Bonnie.Web.Officers;

/// <summary>
/// On start, makes sure someone can sign in: when no administrator exists, creates the configured one, or
/// else <c>admin</c> with a one-time password written once to the console (never to the log, which may be
/// shipped elsewhere) that must be changed at first sign-in.
/// </summary>
internal sealed class InitialAdministrator(
    OfficerStore store,
    IPasswordHasher<OfficerAccount> hasher,
    IOfficerAudit audit,
    IOptions<OfficerOptions> options,
    TimeProvider time,
    TextWriter console,
    ILogger<InitialAdministrator> logger) : IHostedService
{
    public const string DefaultUserName = "admin";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (await store.CountAdministratorsAsync(cancellationToken) > 0)
        {
            return;
        }

        var configured = options.Value.InitialAdministrator;
        var fromConfiguration = !string.IsNullOrEmpty(configured.UserName);
        var userName = fromConfiguration ? configured.UserName! : DefaultUserName;
        var password = fromConfiguration ? configured.Password! : OneTimePassword();

        var account = new OfficerAccount(userName, BonnieRoles.Administrator, "", !fromConfiguration, 0, null, time.GetUtcNow());
        account = account with { PasswordHash = hasher.HashPassword(account, password) };
        if (!await store.TryCreateAsync(account, cancellationToken))
        {
            // The name exists with a lesser role: promoting it silently would hand out rights nobody granted.
            throw new InvalidOperationException(
                $"No administrator exists and the officer '{userName}' already exists with another role. " +
                $"Set {OfficerOptions.Section}:InitialAdministrator:UserName to a new name.");
        }
        await audit.RecordAsync(new OfficerAuditEntry(OfficerNames.System, OfficerActions.OfficerCreated, userName,
            new Dictionary<string, string?>
            {
                ["role"] = BonnieRoles.Administrator,
                ["source"] = fromConfiguration ? "configuration" : "one-time-password",
            }), cancellationToken);

        if (fromConfiguration)
        {
            logger.LogInformation("Created the first administrator {Officer} from configuration", userName);
            return;
        }
        await console.WriteLineAsync(
            $"""

            ==== Bonnie: first administrator created ====
              user name:          {userName}
              one-time password:  {password}
            Sign in and choose a new password now. This password is shown only this once and is not logged.
            ==============================================

            """.AsMemory(), cancellationToken);
        await console.FlushAsync(cancellationToken);
        logger.LogWarning(
            "Created the first administrator {Officer}; its one-time password was written to the console only", userName);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    internal static string OneTimePassword()
    {
        // No look-alike characters: it is read off a terminal and typed by hand.
        const string alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        return RandomNumberGenerator.GetString(alphabet, 20);
    }
}
