using SessionRec.Api.Hosting;
using SessionRec.ServiceDefaults;

Environment.SetEnvironmentVariable("ORT_DISABLE_TELEMETRY", "1");
var builder = WebApplication.CreateBuilder(SettingsFilesRead.Once(args));
BuildFolderSettings.AddIfMissing(builder.Configuration, builder.Environment.ContentRootPath, AppContext.BaseDirectory);
builder.AddSessionRecApi();

var app = builder.Build();
app.MapSessionRecApi();
app.Run();

/// <summary>Entry point, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
