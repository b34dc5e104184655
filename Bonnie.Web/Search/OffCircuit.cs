namespace Bonnie.Web.Search;

/// <summary>
/// Reads of the store (and of other synchronous stores, the officers' audit log, payload files) on a thread of the
/// pool; the result comes back to the caller's context, a circuit's, where the page's state is set. The embedded store
/// reads synchronously: on the circuit's thread a page could not show that it was reading (a review typed a query and
/// saw the last one's results, unchanged, for 3.4 s; an item page's loading bar never reached the browser), nor take a
/// click, until the read was done. Moving this into the store itself made its search-limit tests fail now and then
/// (cause not found), so the pages call it.
/// </summary>
internal static class OffCircuit
{
    public static Task<T> Read<T>(Func<Task<T>> read, CancellationToken cancellationToken = default) => Task.Run(read, cancellationToken);
}
