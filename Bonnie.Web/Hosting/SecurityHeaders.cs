namespace Bonnie.Web.Hosting;

/// <summary>Response headers that keep the officers' application out of frames, sniffing and foreign scripts.</summary>
internal static class SecurityHeaders
{
    // Blazor Server needs its own scripts and the WebSocket back to this origin ('self' covers ws:/wss:);
    // MudBlazor sets inline styles, so style-src allows them. No inline or foreign script runs, and the
    // application may never be framed (frame-ancestors), which also stops click-jacking of restore buttons.
    internal const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
        "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; " +
        "frame-ancestors 'none'";

    public static IApplicationBuilder UseBonnieSecurityHeaders(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                headers["Cross-Origin-Opener-Policy"] = "same-origin";
                headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()";
                // The API's answers are evidence (subjects, addresses, raw notifications): no cache, the browser's or a
                // proxy's, keeps a copy (a review found none said so). A download that sets its own is left as it is.
                if (context.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase)
                    && string.IsNullOrEmpty(headers.CacheControl))
                {
                    headers.CacheControl = "no-store";
                }
                return Task.CompletedTask;
            });
            return next(context);
        });
}
