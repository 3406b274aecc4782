using VectorStoreDb.Client.VectorData;

namespace VectorStoreDb.Tests.Client.VectorData;

public class StorageValuesTests
{
    public static TheoryData<object, Type> RoundTrips() => new()
    {
        { "text", typeof(string) },
        { true, typeof(bool) },
        { 42, typeof(int) },
        { 42, typeof(int?) },
        { 9_007_199_254_740_000L, typeof(long) },
        { (short)7, typeof(short) },
        { (byte)7, typeof(byte) },
        { 0.1, typeof(double) },
        { 0.25f, typeof(float) },
        { 12.75m, typeof(decimal) },
        { new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.Zero).AddTicks(1234567), typeof(DateTimeOffset) },
        { new DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc), typeof(DateTime) },
        { Guid.Parse("6f9619ff-8b86-d011-b42d-00cf4fc964ff"), typeof(Guid) },
        { new[] { "a", "b" }, typeof(string[]) },
        { new[] { 1, 2, 3 }, typeof(int[]) },
        { new List<string> { "a", "b" }, typeof(List<string>) },
        { new List<double> { 1.5, 2.5 }, typeof(IReadOnlyList<double>) },
        { new List<long> { 1, 2 }, typeof(IList<long>) },
    };

    [Theory]
    [MemberData(nameof(RoundTrips))]
    public void Values_round_trip_through_storage(object value, Type type)
    {
        Assert.True(StorageValues.IsSupported(type));
        var stored = StorageValues.ToStorage(value);
        Assert.True(stored is string or double or bool or object?[], $"stored as {stored?.GetType().Name}");
        var back = StorageValues.FromStorage(stored, type);
        Assert.IsAssignableFrom(Nullable.GetUnderlyingType(type) ?? type, back);
        Assert.Equal(value, back);
    }

    [Fact]
    public void Dates_are_stored_as_utc_strings_that_sort_in_time_order()
    {
        var early = StorageValues.ToStorage(new DateTimeOffset(2020, 1, 1, 1, 0, 0, TimeSpan.FromHours(2))); // 2019-12-31T23:00Z
        var late = StorageValues.ToStorage(new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero));
        Assert.Equal("2019-12-31T23:00:00.0000000Z", early);
        Assert.True(string.CompareOrdinal((string)early!, (string)late!) < 0);
    }

    [Theory]
    [InlineData(typeof(object))]
    [InlineData(typeof(Dictionary<string, string>))]
    [InlineData(typeof(TimeSpan))]
    [InlineData(typeof(List<object>))]
    public void Unsupported_types_are_reported(Type type) => Assert.False(StorageValues.IsSupported(type));

    [Fact]
    public void Null_is_left_out() => Assert.Null(StorageValues.ToStorage(null));
}
