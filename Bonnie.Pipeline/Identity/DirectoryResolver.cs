using System.Collections.Concurrent;
using System.DirectoryServices.Protocols;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bonnie.Pipeline.Identity;

/// <summary>
/// Resolves a login name (an event's user, an ACL subject, a folder owner) to the person in the directory, with
/// their groups and roles at this moment. A directory problem is an answer (<see cref="Resolution.DirectoryUnavailable"/>),
/// never an exception: the pipeline stores the event with the raw name and resolves it later.
/// </summary>
internal sealed partial class DirectoryResolver(
    IOptions<IdentityOptions> options,
    TimeProvider timeProvider,
    ILogger<DirectoryResolver> logger)
{
    /// <summary>A crude bound: the cache holds recent names only, so dropping it all now and then costs little.</summary>
    private const int MaxCachedNames = 10_000;

    private static readonly Resolution DisabledResolution = new Resolution.Disabled();

    private readonly IdentityOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, CachedResolution> _cache = new(StringComparer.Ordinal);
    private int _restartWarned;

    public async Task<Resolution> ResolveAsync(string loginName, CancellationToken cancellationToken = default)
    {
        if (!_options.Enabled)
        {
            return DisabledResolution;
        }

        var key = loginName.Trim().ToLowerInvariant();
        if (key.Length == 0)
        {
            return new Resolution.NotFound(loginName);
        }

        var now = timeProvider.GetUtcNow();
        if (_cache.TryGetValue(key, out var cached) && cached.Expires > now)
        {
            return cached.Resolution;
        }

        var resolution = await LookUpAsync(key, cancellationToken).ConfigureAwait(false);
        Remember(key, resolution);
        return resolution;
    }

    /// <summary>
    /// Finds a Cyrus group (<c>group:&lt;name&gt;</c> in an ACL) by its cn below <see cref="IdentityOptions.GroupBaseDns"/>
    /// (<see cref="IdentityOptions.BaseDns"/> when none); cached like people.
    /// </summary>
    public async Task<Resolution> ResolveGroupAsync(string name, CancellationToken cancellationToken = default)
    {
        if (!_options.Enabled)
        {
            return DisabledResolution;
        }

        var trimmed = name.Trim();
        if (trimmed.Length == 0)
        {
            return new Resolution.NotFound(name);
        }

        // A login name never starts with NUL: group answers cannot be mistaken for people's.
        var key = "\0group:" + trimmed.ToLowerInvariant();
        var now = timeProvider.GetUtcNow();
        if (_cache.TryGetValue(key, out var cached) && cached.Expires > now)
        {
            return cached.Resolution;
        }

        var resolution = await LookUpAsync(trimmed, LookUpGroupOnAsync, cancellationToken).ConfigureAwait(false);
        Remember(key, resolution);
        return resolution;
    }

    private async Task<Resolution> LookUpGroupOnAsync(Uri server, string name, CancellationToken cancellationToken)
    {
        using var connection = Connect(server);
        await BindAsync(connection, cancellationToken).ConfigureAwait(false);
        var filter = $"(&(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=groupOfURLs)(objectClass=posixGroup))(cn={Escape(name)}))";
        var entries = new List<SearchResultEntry>();
        foreach (var baseDn in _options.GroupBaseDns.Count > 0 ? _options.GroupBaseDns : _options.BaseDns)
        {
            var request = new SearchRequest(baseDn, filter, SearchScope.Subtree, "cn");
            entries.AddRange(await SearchAsync(connection, request, cancellationToken).ConfigureAwait(false));
        }

        var groups = entries.DistinctBy(e => NormalizeDn(e.DistinguishedName), StringComparer.Ordinal).ToList();
        return groups.Count switch
        {
            0 => new Resolution.NotFound(name),
            1 => new Resolution.GroupResolved(new DirectoryGroup(groups[0].DistinguishedName,
                Values(groups[0], "cn").FirstOrDefault(v => string.Equals(v, name, StringComparison.OrdinalIgnoreCase))
                    ?? FirstRdnValue(groups[0].DistinguishedName))),
            _ => new Resolution.Ambiguous(name, groups.Select(g => g.DistinguishedName).ToList()),
        };
    }

    private void Remember(string key, Resolution resolution)
    {
        var ttl = resolution switch
        {
            Resolution.Resolved or Resolution.GroupResolved or Resolution.Ambiguous => _options.CacheTtl,
            Resolution.NotFound => _options.NotFoundCacheTtl,
            _ => TimeSpan.Zero, // never remember that the directory was down
        };
        if (ttl > TimeSpan.Zero)
        {
            if (_cache.Count >= MaxCachedNames)
            {
                _cache.Clear();
            }

            _cache[key] = new CachedResolution(resolution, timeProvider.GetUtcNow() + ttl);
        }
    }

    private Task<Resolution> LookUpAsync(string loginName, CancellationToken cancellationToken) =>
        LookUpAsync(loginName, LookUpOnAsync, cancellationToken);

    private async Task<Resolution> LookUpAsync(string value, Func<Uri, string, CancellationToken, Task<Resolution>> lookUpOn,
        CancellationToken cancellationToken)
    {
        var reason = "no directory server is configured";
        foreach (var server in _options.Servers)
        {
            try
            {
                return await lookUpOn(new Uri(server), value, cancellationToken).ConfigureAwait(false);
            }
            catch (LdapException e)
            {
                reason = Describe(server, e);
            }
            catch (DirectoryOperationException e)
            {
                reason = $"{server} refused the search: {e.Response?.ResultCode} {e.Message}";
            }
            catch (DirectoryException e)
            {
                reason = $"{server}: {e.Message}";
            }
            catch (TimeoutException)
            {
                reason = $"{server} did not answer within {_options.Timeout}";
            }

            LogServerUnavailable(logger, server, reason);
        }

        return new Resolution.DirectoryUnavailable(reason);
    }

    private async Task<Resolution> LookUpOnAsync(Uri server, string loginName, CancellationToken cancellationToken)
    {
        // One connection per lookup: lookups are cached, and a fresh connection never trips over a server that
        // restarted behind a pooled one.
        using var connection = Connect(server);
        await BindAsync(connection, cancellationToken).ConfigureAwait(false);

        var attributes = RequestedAttributes();
        var filter = PersonFilter(loginName);
        var entries = new List<SearchResultEntry>();
        foreach (var baseDn in _options.BaseDns)
        {
            var request = new SearchRequest(baseDn, filter, SearchScope.Subtree, attributes);
            entries.AddRange(await SearchAsync(connection, request, cancellationToken).ConfigureAwait(false));
        }

        var people = entries.DistinctBy(e => e.DistinguishedName, StringComparer.OrdinalIgnoreCase).ToList();
        if (people.Count == 0)
        {
            return new Resolution.NotFound(loginName);
        }

        if (people.Count > 1)
        {
            return new Resolution.Ambiguous(loginName, people.Select(p => p.DistinguishedName).ToList());
        }

        var entry = people[0];
        var persistentId = Values(entry, _options.PersistentIdAttribute).FirstOrDefault();
        if (persistentId is null)
        {
            // Without the rename-proof id the person cannot be kept apart from a later namesake.
            return new Resolution.DirectoryUnavailable(
                $"{entry.DistinguishedName} has no {_options.PersistentIdAttribute}: check {IdentityOptions.Section}:PersistentIdAttribute and the bind DN's read rights");
        }

        var groups = await GroupsAsync(connection, entry, cancellationToken).ConfigureAwait(false);
        var displayName = _options.DisplayNameAttributes.SelectMany(a => Values(entry, a)).FirstOrDefault()
            ?? FirstRdnValue(entry.DistinguishedName);
        var addresses = _options.AddressAttributes.SelectMany(a => Values(entry, a))
            .Select(v => v.ToLowerInvariant()).Distinct(StringComparer.Ordinal).ToList();
        var loginNames = _options.LoginAttributes.SelectMany(a => Values(entry, a)).Prepend(loginName)
            .Select(v => v.ToLowerInvariant()).Distinct(StringComparer.Ordinal).ToList();
        var roles = string.IsNullOrEmpty(_options.RolesAttribute) ? [] : Values(entry, _options.RolesAttribute).ToList();

        return new Resolution.Resolved(new PersonSnapshot(
            persistentId, entry.DistinguishedName, displayName, addresses, loginNames, groups, roles, timeProvider.GetUtcNow()));
    }

    private async Task<IReadOnlyList<DirectoryGroup>> GroupsAsync(
        LdapConnection connection, SearchResultEntry person, CancellationToken cancellationToken)
    {
        var dns = new List<string>();
        if (Uses("memberOf"))
        {
            dns.AddRange(Values(person, "memberOf"));
        }

        var memberFilters = new StringBuilder();
        var dn = Escape(person.DistinguishedName);
        if (Uses("groupOfNames"))
        {
            memberFilters.Append(CultureInfo.InvariantCulture, $"(&(objectClass=groupOfNames)(member={dn}))");
        }

        if (Uses("groupOfUniqueNames"))
        {
            memberFilters.Append(CultureInfo.InvariantCulture, $"(&(objectClass=groupOfUniqueNames)(uniqueMember={dn}))");
        }

        if (memberFilters.Length > 0)
        {
            var filter = $"(|{memberFilters})";
            foreach (var baseDn in _options.GroupBaseDns.Count > 0 ? _options.GroupBaseDns : _options.BaseDns)
            {
                var request = new SearchRequest(baseDn, filter, SearchScope.Subtree, "1.1"); // DNs only
                dns.AddRange((await SearchAsync(connection, request, cancellationToken).ConfigureAwait(false))
                    .Select(e => e.DistinguishedName));
            }
        }

        return dns.DistinctBy(NormalizeDn, StringComparer.Ordinal)
            .Select(g => new DirectoryGroup(g, FirstRdnValue(g)))
            .OrderBy(g => g.Name, StringComparer.OrdinalIgnoreCase)
            .ToList();
    }

    private bool Uses(string membership) => _options.GroupMembership.Contains(membership, StringComparer.OrdinalIgnoreCase);

    private string[] RequestedAttributes()
    {
        var names = new List<string> { _options.PersistentIdAttribute };
        names.AddRange(_options.DisplayNameAttributes);
        names.AddRange(_options.AddressAttributes);
        names.AddRange(_options.LoginAttributes);
        if (Uses("memberOf"))
        {
            names.Add("memberOf");
        }

        if (!string.IsNullOrEmpty(_options.RolesAttribute))
        {
            names.Add(_options.RolesAttribute);
        }

        return names.Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
    }

    private string PersonFilter(string loginName)
    {
        var value = Escape(loginName);
        var any = string.Concat(_options.LoginAttributes.Select(a => $"({a}={value})"));
        return string.IsNullOrWhiteSpace(_options.PersonFilter) ? $"(|{any})" : $"(&{_options.PersonFilter}(|{any}))";
    }

    /// <summary>
    /// Checks a person's own password by binding as their entry (an officer signing in with the directory account).
    /// An empty password is refused before the directory is asked: LDAP treats it as an anonymous bind that succeeds.
    /// </summary>
    public async Task<PasswordCheck> CheckPasswordAsync(string distinguishedName, string password, CancellationToken cancellationToken = default)
    {
        if (!_options.Enabled || string.IsNullOrEmpty(password) || string.IsNullOrEmpty(distinguishedName))
        {
            return PasswordCheck.Wrong;
        }
        foreach (var server in _options.Servers)
        {
            var uri = new Uri(server);
            using var connection = Connect(uri, new NetworkCredential(distinguishedName, password));
            try
            {
                await BindAsync(connection, cancellationToken).ConfigureAwait(false);
                return PasswordCheck.Right;
            }
            catch (LdapException e) when (e.ErrorCode == 49)
            {
                return PasswordCheck.Wrong;
            }
            catch (Exception e) when (e is LdapException or TimeoutException or DirectoryOperationException)
            {
                // The next server may answer; the password is never part of what is logged.
                LogServerUnavailable(logger, uri.GetLeftPart(UriPartial.Authority), e.Message);
            }
        }
        return PasswordCheck.Unavailable;
    }

    private LdapConnection Connect(Uri server) => Connect(server, string.IsNullOrEmpty(_options.BindDn)
        ? null
        : new NetworkCredential(_options.BindDn, _options.BindPassword));

    private LdapConnection Connect(Uri server, NetworkCredential? credential)
    {
        if (!OpenLdapDefaults.RestartAfterSignals() && Interlocked.Exchange(ref _restartWarned, 1) == 0)
        {
            LogNoRestart(logger);
        }

        var secure = server.Scheme == "ldaps";
        var port = server.IsDefaultPort || server.Port <= 0 ? (secure ? 636 : 389) : server.Port;
        var connection = new LdapConnection(new LdapDirectoryIdentifier(server.Host, port, fullyQualifiedDnsHostName: true, connectionless: false))
        {
            AutoBind = false,
            Timeout = _options.Timeout,
        };
        if (credential is null)
        {
            connection.AuthType = AuthType.Anonymous;
        }
        else
        {
            connection.AuthType = AuthType.Basic;
            connection.Credential = credential;
        }

        connection.SessionOptions.ProtocolVersion = 3;
        connection.SessionOptions.ReferralChasing = ReferralChasingOptions.None;
        if (secure)
        {
            connection.SessionOptions.SecureSocketLayer = true;
        }

        // Bonnie runs on Linux (libldap); Windows' LDAP client takes its trust from the machine store instead.
        if (!string.IsNullOrEmpty(_options.TrustedCertificatesDirectory) && !OperatingSystem.IsWindows())
        {
            connection.SessionOptions.TrustedCertificatesDirectory = _options.TrustedCertificatesDirectory;
            connection.SessionOptions.StartNewTlsSessionContext();
        }

        return connection;
    }

    private Task BindAsync(LdapConnection connection, CancellationToken cancellationToken) =>
        // S.DS.P has no asynchronous bind or StartTLS; both are bounded by the connection's Timeout.
        Task.Run(() =>
        {
            if (_options.StartTls)
            {
                GiveServerWithoutSending(connection);
                connection.SessionOptions.StartTransportLayerSecurity(null);
            }

            connection.Bind();
        }, cancellationToken).WaitAsync(_options.Timeout * 2, cancellationToken);

    /// <summary>
    /// On Linux S.DS.P hands libldap the server's address only with the connection's first request, so StartTLS before
    /// any request fails with 81 (dotnet/runtime#96988). A request sent for that would race the StartTLS after it:
    /// OpenLDAP refuses StartTLS with operationsError ("operations are outstanding") while it is still retiring the
    /// request it has already answered. A compare without a value is refused by S.DS.P itself once it has handed over
    /// the address and before anything is sent, so StartTLS is the first operation the server sees.
    /// </summary>
    private static void GiveServerWithoutSending(LdapConnection connection)
    {
        try
        {
            connection.SendRequest(new CompareRequest());
        }
        catch (ArgumentException)
        {
            // Expected: nothing was sent.
        }
    }

    private async Task<IReadOnlyList<SearchResultEntry>> SearchAsync(
        LdapConnection connection, SearchRequest request, CancellationToken cancellationToken)
    {
        request.TimeLimit = _options.Timeout;
        var response = await Task.Factory.FromAsync(
                (callback, state) => connection.BeginSendRequest(
                    request, _options.Timeout, PartialResultProcessing.NoPartialResultSupport, callback, state),
                connection.EndSendRequest,
                state: null)
            .WaitAsync(_options.Timeout * 2, cancellationToken)
            .ConfigureAwait(false);
        return ((SearchResponse)response).Entries.Cast<SearchResultEntry>().ToList();
    }

    private static IEnumerable<string> Values(SearchResultEntry entry, string attribute) =>
        entry.Attributes.Contains(attribute)
            ? entry.Attributes[attribute].GetValues(typeof(string)).Cast<string>()
            : [];

    private string Describe(string server, LdapException e) => e.ErrorCode switch
    {
        49 => $"{server} refused the bind as {_options.BindDn} (49, invalid credentials)",
        81 => $"{server} is down (81, server down)",
        85 => $"{server} did not answer within {_options.Timeout} (85, timeout)",
        91 => $"{server} refused the connection (91, connect error)",
        _ => $"{server}: {e.ErrorCode} {e.Message}",
    };

    /// <summary>RFC 4515: a login name must never change the filter's meaning.</summary>
    internal static string Escape(string value)
    {
        var escaped = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            _ = c switch
            {
                '\\' => escaped.Append(@"\5c"),
                '*' => escaped.Append(@"\2a"),
                '(' => escaped.Append(@"\28"),
                ')' => escaped.Append(@"\29"),
                '\0' => escaped.Append(@"\00"),
                _ => escaped.Append(c),
            };
        }

        return escaped.ToString();
    }

    private static string FirstRdnValue(string dn)
    {
        var first = dn.Split(',', 2)[0];
        var equals = first.IndexOf('=', StringComparison.Ordinal);
        return equals < 0 ? first : first[(equals + 1)..];
    }

    private static string NormalizeDn(string dn) =>
        string.Join(',', dn.Split(',').Select(part => part.Trim().ToLowerInvariant()));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Directory server unavailable for identity resolution: {Server}: {Reason}")]
    private static partial void LogServerUnavailable(ILogger logger, string server, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not turn on LDAP_OPT_RESTART in libldap: a signal to this process (a child ending) may make the directory look down for one lookup")]
    private static partial void LogNoRestart(ILogger logger);

    private sealed record CachedResolution(Resolution Resolution, DateTimeOffset Expires);
}
