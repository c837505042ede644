// The bicep package used here is the linux-x64 build, and the hook script is POSIX shell: Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
