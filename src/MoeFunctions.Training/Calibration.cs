namespace MoeFunctions.Training;

/// <summary>
/// Logistic calibration of the bundle (BundleManifest.Calibration): P(spoof) = sigmoid(A * logit(s) + B), fitted by
/// Newton's method (maximum likelihood, a tiny L2 term so separable dev data stays finite).
/// </summary>
public static class LogisticCalibration
{
    public static (double A, double B) Fit(IReadOnlyList<double> spoofScores, IReadOnlyList<bool> spoof, double l2 = 1e-3)
    {
        if (spoofScores.Count != spoof.Count || spoof.Count == 0) throw new ArgumentException("need matching, non-empty scores and labels");
        var x = spoofScores.Select(Logit).ToArray();
        double a = 1, b = 0;
        for (int iter = 0; iter < 50; iter++)
        {
            double ga = l2 * (a - 1), gb = l2 * b, haa = l2, hab = 0, hbb = l2;
            for (int i = 0; i < x.Length; i++)
            {
                double p = Sigmoid(a * x[i] + b), y = spoof[i] ? 1 : 0, w = Math.Max(p * (1 - p), 1e-12);
                ga += (p - y) * x[i]; gb += p - y;
                haa += w * x[i] * x[i]; hab += w * x[i]; hbb += w;
            }
            double det = haa * hbb - hab * hab;
            if (Math.Abs(det) < 1e-18) break;
            double da = (hbb * ga - hab * gb) / det, db = (haa * gb - hab * ga) / det;
            a -= da; b -= db;
            if (Math.Abs(da) + Math.Abs(db) < 1e-9) break;
        }
        return (a, b);
    }

    public static double Logit(double p)
    {
        p = Math.Clamp(p, 1e-6, 1 - 1e-6);
        return Math.Log(p / (1 - p));
    }

    public static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));
}
