// The `moe` command. Commands are registered in MoeApp.Configure; each lives in Commands/.
using MoeFunctions.Cli;
using Spectre.Console;

return await MoeApp.Create(AnsiConsole.Console).RunAsync(args);
