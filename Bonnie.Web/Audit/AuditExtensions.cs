namespace Bonnie.Web.Audit;

internal static class AuditExtensions
{
    public static IServiceCollection AddOfficerAudit(this IServiceCollection services)
    {
        services.AddSingleton<OfficerAuditLog>();
        services.AddSingleton<IOfficerAudit>(sp => sp.GetRequiredService<OfficerAuditLog>());
        return services;
    }
}
