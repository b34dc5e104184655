namespace Bonnie.Dealer.Transport;

/// <summary>The broker could not be reached or did not complete the exchange in time.</summary>
internal sealed class BrokerUnavailableException : Exception
{
    public BrokerUnavailableException()
    {
    }

    public BrokerUnavailableException(string message)
        : base(message)
    {
    }

    public BrokerUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
