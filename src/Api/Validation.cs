namespace SessionRec.Api;

/// <summary>Rules for what names a tenant (ids and text of events and items: <see cref="EventContract.FieldRules"/>).</summary>
public static class Validation
{
    public static bool IsValidTenant(string tenant)
    {
        if (tenant.Length is 0 or > 64)
        {
            return false;
        }

        foreach (var c in tenant)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }
}
