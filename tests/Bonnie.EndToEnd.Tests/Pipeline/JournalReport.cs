using System.Globalization;
using System.Text;
using Bonnie.Pipeline.Broker;
using Microsoft.Data.Sqlite;

namespace Bonnie.EndToEnd.Tests.Pipeline;

/// <summary>
/// What the broker's journal says about jobs a test expected and did not see: their state, lane and attempts, and
/// how far each of their lanes got. A stalled pipeline is then diagnosed from the failure message alone.
/// </summary>
internal static class JournalReport
{
    public static string Describe(string queueFile, IReadOnlyCollection<string> missing, int limit = 20)
    {
        if (!File.Exists(queueFile))
        {
            return $"(no journal at {queueFile})";
        }
        var text = new StringBuilder();
        var lanes = new SortedSet<string>(StringComparer.Ordinal);
        var listed = 0;
        var absent = 0;
        try
        {
            // Read-only beside the running broker: WAL lets a reader in while the broker writes.
            using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
            {
                DataSource = queueFile, Mode = SqliteOpenMode.ReadOnly, Pooling = false,
            }.ToString());
            connection.Open();
            text.AppendLine(CultureInfo.InvariantCulture, $"{missing.Count} expected jobs not recorded; the journal says (first {limit}):");
            foreach (var id in missing.Order(StringComparer.Ordinal))
            {
                using var command = connection.CreateCommand();
                command.CommandText = "SELECT seq, lane, state, attempts, reason FROM jobs WHERE id = $id";
                command.Parameters.AddWithValue("$id", Convert.FromHexString(id));
                using var reader = command.ExecuteReader();
                if (!reader.Read())
                {
                    absent++;
                    if (listed++ < limit)
                    {
                        text.AppendLine(CultureInfo.InvariantCulture, $"  {id[..12]} NOT IN THE JOURNAL");
                    }
                    continue;
                }
                var lane = reader.GetString(1);
                lanes.Add(lane);
                if (listed++ < limit)
                {
                    var reason = reader.IsDBNull(4) ? "" : " reason: " + reader.GetString(4);
                    text.AppendLine(CultureInfo.InvariantCulture,
                        $"  {id[..12]} seq {reader.GetInt64(0)} {(JobState)reader.GetInt32(2)} lane {lane} attempts {reader.GetInt32(3)}{reason}");
                }
            }
            if (absent > 0)
            {
                // A broker acknowledges only what it has committed: these never reached one, whatever a client counted.
                text.AppendLine(CultureInfo.InvariantCulture, $"{absent} of them are not in the journal: no broker ever acknowledged them.");
            }
            text.AppendLine(CultureInfo.InvariantCulture, $"Their {lanes.Count} lanes (jobs by state; the oldest unfinished job):");
            foreach (var lane in lanes.Take(limit))
            {
                using var command = connection.CreateCommand();
                command.CommandText = "SELECT state, count(*), min(seq) FROM jobs WHERE lane = $lane GROUP BY state ORDER BY state";
                command.Parameters.AddWithValue("$lane", lane);
                using var reader = command.ExecuteReader();
                var states = new List<string>();
                while (reader.Read())
                {
                    states.Add($"{(JobState)reader.GetInt32(0)} {reader.GetInt64(1)} (from seq {reader.GetInt64(2)})");
                }
                text.AppendLine(CultureInfo.InvariantCulture, $"  {lane}: {string.Join(", ", states)}");
            }
        }
        catch (SqliteException exception)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"(the journal could not be read: {exception.Message})");
        }
        return text.ToString();
    }

    /// <summary>The last lines of a process's log, where warnings about lost workers and missed deadlines are.</summary>
    public static string Tail(string output, int lines = 30) =>
        string.Join('\n', output.Split('\n').TakeLast(lines));
}
