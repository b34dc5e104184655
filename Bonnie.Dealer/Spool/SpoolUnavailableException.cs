namespace Bonnie.Dealer.Spool;

/// <summary>No spool directory could take the event.</summary>
internal sealed class SpoolUnavailableException : Exception
{
    public SpoolUnavailableException()
    {
    }

    public SpoolUnavailableException(string message)
        : base(message)
    {
    }

    public SpoolUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
