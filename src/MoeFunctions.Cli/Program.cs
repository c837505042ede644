// The `moe` command. Commands are registered here; each lives in Commands/.
Console.Error.WriteLine("moe: no commands yet");
return 2;
