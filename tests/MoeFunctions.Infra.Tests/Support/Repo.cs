using MoeFunctions.TestSupport;

namespace MoeFunctions.Infra.Tests.Support;

/// <summary>Paths inside the repository the tests run from.</summary>
public static class Repo
{
    public static string Root => Repository.Root;

    public static string Infra => Path.Combine(Root, "infra");

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);
}
