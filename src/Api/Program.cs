using SessionRec.Api.Hosting;

Environment.SetEnvironmentVariable("ORT_DISABLE_TELEMETRY", "1");
var builder = WebApplication.CreateBuilder(args);
BuildFolderSettings.AddIfMissing(builder.Configuration, builder.Environment.ContentRootPath, AppContext.BaseDirectory);
builder.AddSessionRecApi();

var app = builder.Build();
app.MapSessionRecApi();
app.Run();

/// <summary>Entry point, visible to WebApplicationFactory in tests.</summary>
public partial class Program;
