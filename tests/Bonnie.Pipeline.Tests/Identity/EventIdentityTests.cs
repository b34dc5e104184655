using Bonnie.Pipeline.Identity;
using Bonnie.Pipeline.Storage.Embedded;
using Bonnie.Pipeline.Tests.Storage;
using Bonnie.Pipeline.Worker;
using Bonnie.Shared.Search;
using Bonnie.Shared.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace Bonnie.Pipeline.Tests.Identity;

/// <summary>A directory as the enricher sees it: people by login name, or down.</summary>
internal sealed class FakeEnricher : IIdentityEnricher
{
    private readonly Dictionary<string, (string Id, string Name, string[] Names, string[] Groups)> _people = new(StringComparer.OrdinalIgnoreCase);

    public bool Down { get; set; }
    public bool Throws { get; set; }
    public DateTimeOffset Now { get; set; } = TestPipeline.Now;

    public void Add(string id, string displayName, string[] names, params string[] groups)
    {
        foreach (var n in names)
        {
            _people[n] = (id, displayName, names, groups);
        }
    }

    public void Remove(string name) => _people.Remove(name);

    public Task<Enrichment> EnrichAsync(string loginName, DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (Throws)
        {
            throw new InvalidOperationException("the enricher broke");
        }
        if (Down)
        {
            return Task.FromResult(new Enrichment(new EventIdentity { Status = IdentityStatus.Pending }, null));
        }
        if (!_people.TryGetValue(loginName, out var p))
        {
            return Task.FromResult(new Enrichment(new EventIdentity { Status = IdentityStatus.NotFound }, null));
        }
        return Task.FromResult(DirectoryIdentityEnricher.ToEnrichment(new Resolution.Resolved(Snapshot(p)), at));
    }

    /// <summary>Groups known to the fake directory by cn (Cyrus's <c>group:cn</c>).</summary>
    public HashSet<string> Groups { get; } = new(StringComparer.OrdinalIgnoreCase);

    public Task<SubjectEnrichment> DescribeSubjectAsync(string identifier, DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (Throws)
        {
            throw new InvalidOperationException("the enricher broke");
        }
        var subject = AclIdentifier.Parse(identifier, ["admin", "cyrus"]);
        Resolution resolution = Down ? new Resolution.DirectoryUnavailable("down")
            : subject.IsGroup ? (Groups.Contains(subject.Name) ? new Resolution.GroupResolved(new DirectoryGroup($"cn={subject.Name},ou=Groups", subject.Name)) : new Resolution.NotFound(subject.Name))
            : _people.TryGetValue(subject.Name, out var p) ? new Resolution.Resolved(Snapshot(p))
            : new Resolution.NotFound(subject.Name);
        return Task.FromResult(subject.Describe(subject.IsSpecial ? null : resolution, Now, at));
    }

    private PersonSnapshot Snapshot((string Id, string Name, string[] Names, string[] Groups) p) =>
        new(p.Id, "uid=" + p.Id, p.Name, p.Names, p.Names, p.Groups.Select(g => new DirectoryGroup("cn=" + g, g)).ToList(), [], Now);
}

public sealed class EventIdentityTests : IAsyncLifetime
{
    private const string PersonId = "6f1c2e9a-0000-4000-8000-000000000001";
    private readonly FakeEnricher _directory = new();
    private TestPipeline _p = null!;

    public async Task InitializeAsync() => _p = await TestPipeline.CreateAsync(identity: _directory);

    public async Task DisposeAsync() => await _p.DisposeAsync();

    private static string As(string eventName, string user) => Fixture.Edit(Fixture.Event(eventName), ("\"user\":\"alice@example.org\"", $"\"user\":\"{user}\""));

    private async Task<IReadOnlyList<StoredEvent>> SearchAsync(string query)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var page = await _p.Store.SearchEventsAsync(new EventSearch { Query = QueryParser.Parse(query), Limit = 100 }, timeout.Token);
        return page.Items;
    }

    [Fact]
    public async Task ProcessBatch_UserResolves_EventKeepsWhoTheyWereThen()
    {
        _directory.Add(PersonId, "Jane Gi", ["jane.gi@example.org"], "finance");

        await _p.RunAllAsync(As("FlagsSet", "jane.gi@example.org"));
        _directory.Add(PersonId, "Jane Gi", ["jane.gi@example.org"], "legal"); // she changes group afterwards

        var stored = Assert.Single(await SearchAsync("user:jane.gi@example.org"));
        var identity = Assert.IsType<EventIdentity>((await _p.Store.GetEventAsync(stored.Id))!.Identity);
        Assert.Equal(IdentityStatus.Resolved, identity.Status);
        Assert.Equal(PersonId, identity.PersonId);
        Assert.Equal("Jane Gi", identity.DisplayName);
        Assert.Equal(["finance"], identity.Groups);
        Assert.Equal(TestPipeline.Now, identity.ResolvedAt);
    }

    [Fact]
    public async Task Search_ByOldOrNewName_FindsAllEventsOfThePerson()
    {
        _directory.Add(PersonId, "Jane Gi", ["jane.gi@example.org"]);
        await _p.RunAllAsync(As("FlagsSet", "jane.gi@example.org"), As("MailboxSubscribe", "jane.gi@example.org"));
        _directory.Remove("jane.gi@example.org");
        _directory.Add(PersonId, "Jane Doe", ["jane.doe@example.org"]);
        await _p.RunAllAsync(As("FlagsClear", "jane.doe@example.org"));
        _directory.Add("someone-else", "Bob", ["bob@example.org"]);
        await _p.RunAllAsync(As("FlagsSet", "bob@example.org"));

        var byOld = await SearchAsync("user:jane.gi@example.org");
        var byNew = await SearchAsync("user:JANE.DOE@example.org");

        Assert.Equal(3, byOld.Count);
        Assert.Equal(byOld.Select(e => e.Id).Order(), byNew.Select(e => e.Id).Order());
        Assert.All(byOld, e => Assert.Equal(PersonId, e.Identity?.PersonId));
        var person = Assert.IsType<PersonRecord>(await _p.Store.GetPersonAsync(PersonId));
        Assert.Equal(["jane.gi@example.org", "jane.doe@example.org"], person.Names.Select(n => n.Name));
        Assert.Equal("Jane Doe", person.DisplayName);
        Assert.Equal(3, person.EventCount);
    }

    [Fact]
    public async Task ProcessBatch_DirectoryDown_StoredAtOncePendingThenReResolved()
    {
        _directory.Add(PersonId, "Jane Gi", ["jane.gi@example.org"]);
        _directory.Down = true;

        var outcome = await _p.RunAsync(As("FlagsSet", "jane.gi@example.org"));

        Assert.IsType<JobOutcome.Done>(outcome);
        var pending = Assert.Single(await _p.Store.GetPendingIdentityAsync(10));
        Assert.Equal(IdentityStatus.Pending, pending.Identity?.Status);
        Assert.Null(pending.Identity?.PersonId);

        var service = new IdentityReResolution(_p.Store, _directory, _p.Time, NullLogger<IdentityReResolution>.Instance);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var stillDown = await service.RunOnceAsync(timeout.Token);
        Assert.True(stillDown.DirectoryDown);
        Assert.Single(await _p.Store.GetPendingIdentityAsync(10));

        _directory.Down = false;
        _directory.Now = TestPipeline.Now.AddMinutes(5);
        var back = await service.RunOnceAsync(timeout.Token);

        Assert.Equal(1, back.Updated);
        Assert.Empty(await _p.Store.GetPendingIdentityAsync(10));
        var resolved = (await _p.Store.GetEventAsync(pending.Id))!.Identity!;
        Assert.Equal((IdentityStatus.Resolved, PersonId, TestPipeline.Now.AddMinutes(5)), (resolved.Status, resolved.PersonId, resolved.ResolvedAt));
        Assert.Single(await SearchAsync("user:jane.gi@example.org"));
        Assert.Equal(1, (await _p.Store.GetPersonAsync(PersonId))!.EventCount);
    }

    [Fact]
    public async Task ProcessBatch_EnricherThrows_JobDoneAndEventPending()
    {
        _directory.Throws = true;

        var outcome = await _p.RunAsync(As("FlagsSet", "jane.gi@example.org"));

        Assert.IsType<JobOutcome.Done>(outcome);
        Assert.Equal(IdentityStatus.Pending, Assert.Single(await _p.Store.GetPendingIdentityAsync(10)).Identity?.Status);
    }

    [Fact]
    public async Task ProcessBatch_UnknownUser_StoredNotFoundWithRawName()
    {
        await _p.RunAllAsync(As("FlagsSet", "ghost@example.org"));

        var e = Assert.Single(await SearchAsync("user:ghost@example.org"));
        Assert.Equal(IdentityStatus.NotFound, e.Identity?.Status);
        Assert.Null(await _p.Store.GetPersonAsync("ghost@example.org"));
    }
}

public sealed class SchemaMigrationTests
{
    /// <summary>
    /// A store directory whose database an older Bonnie left at <paramref name="version"/> (with its rows in
    /// <paramref name="rows"/>), opened and migrated by this one, then handed to the test; removed after.
    /// </summary>
    private static async Task WithMigratedStoreAsync(int version, string? rows, Func<EmbeddedStore, Task> test)
    {
        var dir = Path.Combine(Path.GetTempPath(), "bonnie-store-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            await using (var old = new SqliteConnection($"Data Source={Path.Combine(dir, "bonnie.db")};Pooling=False"))
            {
                old.Open();
                Schema.Migrate(old, version);
                if (rows is not null)
                {
                    using var cmd = old.CreateCommand();
                    cmd.CommandText = rows;
                    cmd.ExecuteNonQuery();
                }
            }
            await using var store = new EmbeddedStore(dir, 16, NullLogger<EmbeddedStore>.Instance);
            await store.InitializeAsync();
            await test(store);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public Task Initialize_DatabaseOfVersion1_MigratesToIdentitySchema() => WithMigratedStoreAsync(1, null, async store =>
    {
        await using var check = new SqliteConnection($"Data Source={store.DatabasePath};Pooling=False");
        check.Open();
        using var cmd = check.CreateCommand();
        cmd.CommandText = "SELECT max(version) FROM schema_version";
        Assert.Equal((long)Schema.CurrentVersion, (long)cmd.ExecuteScalar()!);
        Assert.Equal(10, Schema.CurrentVersion);
        Assert.Null(await store.GetPersonAsync("p1"));
        Assert.Empty(await store.GetPendingIdentityAsync(10));
    });

    // As a Bonnie of schema 6 stored them: a delivery whose subject, sender and body went to events_fts only, and a login.
    [Fact]
    public Task Initialize_DatabaseOfVersion6WithADelivery_FieldSearchAndExclusionFindWhatTheyDidBefore() => WithMigratedStoreAsync(6, """
        INSERT INTO events(seq, id, type, name, ts, received, user, sender, recipients, subject, payload_status, payload_sha256, raw_sha256, raw)
        VALUES (4096, 'e1', 'MessageNew', 'MessageNew', 1, 1, 'alice@example.org', 'carol@example.net', 'alice@example.org', 'Merger talks', 1, 'aa', 'x', x'7b7d');
        INSERT INTO events_fts(rowid, subject, sender, recipients, body)
        VALUES (4096, 'Merger talks', 'carol@example.net', 'alice@example.org', 'the budget is final');
        INSERT INTO events(seq, id, type, name, ts, received, user, ip, payload_status, raw_sha256, raw)
        VALUES (8192, 'e2', 'Login', 'Login', 2, 2, 'alice@example.org', '10.0.0.1', 0, 'x', x'7b7d');
        INSERT INTO event_terms(term, seq) VALUES ('e:messagenew', 4096), ('e:login', 8192);
        """, async store =>
    {
        async Task<string> Q(string q)
            => string.Join(',', (await store.SearchEventsAsync(new EventSearch { Query = QueryParser.Parse(q), Limit = 10 })).Items.Select(e => e.Id).Order());

        Assert.Equal("e1", await Q("subject:merger"));
        Assert.Equal("e1", await Q("from:carol@example.net"));
        Assert.Equal("e1", await Q("budget"));
        Assert.Equal("", await Q("subject:budget"));
        Assert.Equal("e2", await Q("-merger"));
        Assert.Equal("e2", await Q("-budget"));
        Assert.Equal("e2", await Q("event:Login -merger"));
        Assert.Equal("e1,e2", await Q("-subject:budget"));
    });

    // As a Bonnie of schema 8 stored them: a nested folder of alice, and a stand-in (known by name only) that turned out to
    // be a folder with an id, each with an event, and a read and a trash without flag terms. Schema 9 finds them all.
    [Fact]
    public Task Initialize_DatabaseOfVersion8_NestedOwnerPathAndStandInFoundByTheNewAliases() => WithMigratedStoreAsync(8, """
        INSERT INTO folder_aliases(alias, folder_id) VALUES
            ('user/alice/projects/contracts@example.org', 'f-nested'), ('inbox/projects/contracts', 'f-nested'), ('contracts', 'f-nested'), ('f-nested', 'f-nested'),
            ('user/alice/src@example.org', 'name:user/alice/src@example.org'), ('inbox/src', 'name:user/alice/src@example.org'), ('src', 'name:user/alice/src@example.org'),
            ('user/alice/src@example.org', 'f-real'), ('f-real', 'f-real');
        INSERT INTO folders(id, name_lower, present, version, doc) VALUES
            ('name:user/alice/src@example.org', 'user/alice/src@example.org', 0, 1, '{"Id":"name:user/alice/src@example.org","Name":"user/alice/Src@example.org","SameAs":"f-real"}');
        INSERT INTO events(seq, id, type, name, ts, received, user, folder_id, payload_status, raw_sha256, raw)
        VALUES (4096, 'in-nested', 'MessageNew', 'MessageNew', 1, 1, 'alice@example.org', 'f-nested', 0, 'x', x'7b7d'),
               (8192, 'copy-out-of-src', 'MessageCopy', 'vnd.cmu.MessageCopy', 2, 2, 'alice@example.org', 'name:user/alice/src@example.org', 0, 'x', x'7b7d'),
               (12288, 'read', 'MessageRead', 'MessageRead', 3, 3, 'alice@example.org', 'f-nested', 0, 'x', x'7b7d'),
               (16384, 'trash', 'MessageTrash', 'MessageTrash', 4, 4, 'alice@example.org', 'f-nested', 0, 'x', x'7b7d');
        INSERT INTO event_terms(term, seq) VALUES ('f:f-nested', 4096), ('f:name:user/alice/src@example.org', 8192), ('f:f-nested', 12288), ('f:f-nested', 16384),
            ('e:messageread', 12288), ('e:messagetrash', 16384);
        """, async store =>
    {
        async Task<string> Q(string q)
            => string.Join(',', (await store.SearchEventsAsync(new EventSearch { Query = QueryParser.Parse(q), Limit = 10 })).Items.Select(e => e.Id).Order());

        Assert.Equal("in-nested,read,trash", await Q("folder:Projects/Contracts"));
        Assert.Equal("copy-out-of-src", await Q("folder:f-real"));
        Assert.Equal("read", await Q("flag:\\Seen"));
        Assert.Equal("trash", await Q("flag:\\Deleted"));
        // Its page says so too, not only the search.
        Assert.Equal(["\\Seen"], (await store.GetEventAsync("read"))!.Flags);
    });

    // Two events a Bonnie of schema 7 stored (no arrival numbers), then one stored now with an older time: the feed
    // gives the old ones in their time order, then the new one, and goes on from there.
    [Fact]
    public Task Initialize_DatabaseOfVersion7_TheFeedGivesItsEventsThenTheNewOnes() => WithMigratedStoreAsync(7, """
        INSERT INTO events(seq, id, type, name, ts, received, user, payload_status, raw_sha256, raw)
        VALUES (8192, 'old2', 'Login', 'Login', 2, 2, 'alice@example.org', 0, 'x', x'7b7d'),
               (4096, 'old1', 'Login', 'Login', 1, 1, 'alice@example.org', 0, 'x', x'7b7d');
        """, async store =>
    {
        var raw = "{\"event\":\"Logout\"}"u8.ToArray();
        var batch = new StoreBatch();
        batch.Events.Add(new StoredEvent
        {
            Id = "new", Type = Bonnie.Shared.Events.EventType.Logout, Name = "Logout", Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(0),
            RawSha256 = "x", Raw = raw,
        });
        await store.CommitAsync(batch);

        var feed = await store.ReadFeedAsync(new FeedRequest { Query = QueryParser.Parse(""), Limit = 10 });
        var after = await store.ReadFeedAsync(new FeedRequest { Query = QueryParser.Parse(""), After = feed.Next, Limit = 10 });

        Assert.Equal(["old1", "old2", "new"], feed.Items.Select(e => e.Id));
        Assert.Empty(after.Items);
    });

    // A Japanese subject a Bonnie of schema 7 indexed as one word (no spaces in it): the whole run is still found, as it
    // was then; a word inside it is found in what is stored from now on.
    [Fact]
    public Task Initialize_DatabaseOfVersion7WithAJapaneseSubject_TheWholeRunStillFound() => WithMigratedStoreAsync(7, """
        INSERT INTO events(seq, id, type, name, ts, received, user, subject, payload_status, raw_sha256, raw)
        VALUES (4096, 'old', 'MessageNew', 'MessageNew', 1, 1, 'alice@example.org', '東京都の会議', 0, 'x', x'7b7d');
        INSERT INTO events_fts(rowid, subject, sender, recipients, body) VALUES (4096, '東京都の会議', '', '', NULL);
        INSERT INTO fields_fts(rowid, subject, sender, recipients) VALUES (4096, '東京都の会議', '', '');
        INSERT INTO text_types(type) VALUES ('MessageNew');
        """, async store =>
    {
        var raw = "{\"event\":\"MessageNew\"}"u8.ToArray();
        var batch = new StoreBatch();
        batch.Events.Add(new StoredEvent
        {
            Id = "new", Type = Bonnie.Shared.Events.EventType.MessageNew, Name = "MessageNew", Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(5),
            Subject = "東京都の会議", RawSha256 = "x", Raw = raw,
        });
        await store.CommitAsync(batch);

        async Task<string> Q(string q)
            => string.Join(',', (await store.SearchEventsAsync(new EventSearch { Query = QueryParser.Parse(q), Limit = 10 })).Items.Select(e => e.Id).Order());

        Assert.Equal("new,old", await Q("東京都の会議"));
        Assert.Equal("new,old", await Q("subject:東京都の会議"));
        Assert.Equal("new", await Q("会議"));
    });

    // Jane's event under her old name, stored by a Bonnie that had no person terms yet.
    [Fact]
    public Task Initialize_DatabaseOfVersion2WithResolvedEvents_UserSearchFindsThemUnderEveryName() => WithMigratedStoreAsync(2, """
        INSERT INTO events(seq, id, type, name, ts, received, user, payload_status, raw_sha256, raw, identity_status, person_id)
        VALUES (4096, 'e1', 'FlagsSet', 'FlagsSet', 1, 1, 'jane.gi@example.org', 0, 'x', x'7b7d', 'resolved', 'P-Jane');
        INSERT INTO event_terms(term, seq) VALUES ('u:jane.gi@example.org', 4096), ('e:flagsset', 4096);
        INSERT INTO people(id, display_name) VALUES ('P-Jane', 'Jane Doe');
        INSERT INTO person_names(name, person_id, first_seen, last_seen) VALUES
            ('jane.gi@example.org', 'P-Jane', 1, 1), ('jane.doe@example.org', 'P-Jane', 2, 2);
        """, async store =>
    {
        var page = await store.SearchEventsAsync(new EventSearch { Query = QueryParser.Parse("user:jane.doe@example.org") });

        Assert.Equal("e1", Assert.Single(page.Items).Id);
        Assert.Equal(1, page.Total);
    });
}
