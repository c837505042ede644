using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("MoeFunctions.Detection.Tests")]
