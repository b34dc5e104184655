using System.Runtime.InteropServices;

namespace Bonnie.Pipeline.Identity;

/// <summary>
/// libldap (OpenLDAP's client library, under S.DS.P on Linux) gives up waiting for the server with 81 "server down"
/// when a signal interrupts its poll(), unless LDAP_OPT_RESTART is on; it is off by default. Every child process this
/// one starts (Cyrus tools, scripts) sends SIGCHLD when it ends, to whichever thread the kernel picks, so a healthy
/// directory would look down now and then. S.DS.P does not offer the option: it is set once in libldap's defaults,
/// which every connection created afterwards copies.
/// </summary>
internal static class OpenLdapDefaults
{
    private const int LdapOptRestart = 0x09;

    /// <summary>The names S.DS.P loads libldap by, in its order: the same library, so the same defaults.</summary>
    private static readonly string[] LibraryNames = ["libldap.so.2", "libldap-2.6.so.0", "libldap-2.5.so.0", "libldap-2.4.so.2"];

    private static readonly Lazy<bool> Restart = new(SetRestart, LazyThreadSafetyMode.ExecutionAndPublication);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int SetOption(IntPtr ld, int option, IntPtr value);

    /// <summary>
    /// Turns LDAP_OPT_RESTART on before the first connection; false when libldap could not be found or refused. Not
    /// needed on Windows, whose LDAP client is not libldap.
    /// </summary>
    public static bool RestartAfterSignals() => Restart.Value;

    private static bool SetRestart()
    {
        if (OperatingSystem.IsWindows())
        {
            return true;
        }

        foreach (var name in LibraryNames)
        {
            if (!NativeLibrary.TryLoad(name, out var library))
            {
                continue;
            }

            if (!NativeLibrary.TryGetExport(library, "ldap_set_option", out var export))
            {
                return false;
            }

            var setOption = Marshal.GetDelegateForFunctionPointer<SetOption>(export);
            // A boolean option is on for any non-null value (LDAP_OPT_ON); a null handle sets the library's defaults.
            var on = Marshal.AllocHGlobal(sizeof(int));
            try
            {
                Marshal.WriteInt32(on, 1);
                return setOption(IntPtr.Zero, LdapOptRestart, on) == 0;
            }
            finally
            {
                Marshal.FreeHGlobal(on);
            }
        }

        return false;
    }
}
