# Bonnie.Web: the officers' application, the API and the hosted services, in one image.
#   docker build -t bonnie .
#   docker run -p 127.0.0.1:8080:8080 -p 5570:5570 -v bonnie-data:/data bonnie
# Port 5570 takes the dealers' notifications (ZeroMQ, no authentication): publish it to your Cyrus hosts only.
# On first start without Bonnie__Officers__InitialAdministrator__* the one-time password of `admin` is
# printed once to the container's console (docker logs).

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Project files and central build settings first: the restore layer stays cached until one of them changes.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY Bonnie.Shared/Bonnie.Shared.csproj Bonnie.Shared/
COPY Bonnie.Pipeline/Bonnie.Pipeline.csproj Bonnie.Pipeline/
COPY Bonnie.Elasticsearch/Bonnie.Elasticsearch.csproj Bonnie.Elasticsearch/
COPY Bonnie.Web/Bonnie.Web.csproj Bonnie.Web/
RUN dotnet restore Bonnie.Web/Bonnie.Web.csproj
COPY Bonnie.Shared/ Bonnie.Shared/
COPY Bonnie.Pipeline/ Bonnie.Pipeline/
COPY Bonnie.Elasticsearch/ Bonnie.Elasticsearch/
COPY Bonnie.Web/ Bonnie.Web/
COPY wwwroot-assets/ wwwroot-assets/
RUN dotnet publish Bonnie.Web/Bonnie.Web.csproj -c Release --no-restore -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
# Inside a container the host must listen on all interfaces (the port is published explicitly);
# outside one Bonnie listens on loopback only unless told otherwise.
ENV ASPNETCORE_URLS=http://0.0.0.0:8080 \
    ASPNETCORE_HTTP_PORTS= \
    Bonnie__Broker__ClientEndpoint=tcp://0.0.0.0:5570 \
    Bonnie__DataDirectory=/data \
    DOTNET_NOLOGO=1
# `app` (uid 1654) is the image's non-root user; the data directory is its alone.
RUN mkdir -p /data && chown app:app /data && chmod 700 /data
COPY --from=build /app ./
USER app
VOLUME ["/data"]
EXPOSE 8080 5570
ENTRYPOINT ["dotnet", "Bonnie.Web.dll"]
