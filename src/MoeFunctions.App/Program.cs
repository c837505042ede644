using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using MoeFunctions.App;

var builder = FunctionsApplication.CreateBuilder(args);
builder.Services.AddMoeCloud(builder.Configuration);
builder.Services.AddMoeTelemetry(builder.Configuration);
builder.Build().Run();
