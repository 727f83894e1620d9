using System.Security.Cryptography;
using Netdump.Actors.Protocol;

namespace Netdump.Actors.Storage;

/// <summary>How one decryption ended.</summary>
public enum DecryptionOutcome
{
    /// <summary>The plain core is in place and the reports name it.</summary>
    Decrypted,

    /// <summary>It cannot be decrypted with this key (it does not match, the dump's key is unusable): the reports say why, the encrypted core stays.</summary>
    Refused,

    /// <summary>Something that may pass (no space, an I/O error, a stop): nothing is left beside the encrypted core, a later start tries again.</summary>
    Failed,
}

/// <summary>What <see cref="CoreDecryption.Run"/> did: the dump's record as its reports now say, and why when not decrypted.</summary>
public sealed record DecryptionResult(DecryptionOutcome Outcome, DumpRecord Record, string? Why);

/// <summary>
/// Server-side decryption (SPEC §10, <c>decrypt_key</c>): a complete encrypted dump also gets
/// its plain core, the bytes <c>decryptcore -p decrypt_key -k key -e vmcore_encrypted -c vmcore</c>
/// writes: the dump's key opened with the private key (<see cref="EkcdCipher.Unwrap"/>), the
/// whole core deciphered in one stream. A dump that arrived compressed gets <c>vmcore.gz</c> or
/// <c>vmcore.zst</c>: what the cipher hid is the compressed stream. The plain core is written
/// under a hidden temporary name, fsynced and renamed into place; the encrypted core and the
/// key are never touched.
/// </summary>
public static class CoreDecryption
{
    private const int ChunkBytes = 1024 * 1024;

    /// <summary>Null when the dump is one to decrypt; otherwise why not.</summary>
    public static string? WhyNot(DumpRecord r) =>
        r.Status != DumpStatus.Complete ? "not complete"
        : !r.Encrypted ? "not encrypted"
        : r.DecryptedVmcore is not null ? "decrypted already"
        : r.DecryptionProblem is { } problem ? $"given up before: {problem}"
        : null;

    /// <summary>
    /// The plain core's name: what it holds is compressed when the dump arrived so, as its header
    /// says, or, for a dump the start-up scan recovered without one, as its core's name says.
    /// </summary>
    public static string PlainName(DumpRecord r) =>
        CoreFileNames.WithCompression(CoreFileNames.Plain, r.Header?.Compression ?? CoreFileNames.CompressionOf(r.Vmcore));

    /// <summary>Decrypts the dump (see the type). Never throws for the disk or the key: every failure is an outcome with its reason.</summary>
    /// <param name="gate">closed while dumps are being received: the deciphering waits at it between chunks</param>
    /// <param name="room">what the plain copy may use: none is written without room for all of it above the reserve</param>
    public static DecryptionResult Run(DumpRecord record, RSA privateKey, CancellationToken cancel, PauseGate? gate = null, CopyRoom? room = null)
    {
        if (WhyNot(record) is { } whyNot)
        {
            return new DecryptionResult(DecryptionOutcome.Failed, record, whyNot);
        }

        var directory = record.Directory;
        var plainName = PlainName(record);
        var temporary = Path.Combine(directory, CoreCompression.TemporaryName(plainName));
        try
        {
            using var keyFile = RegularFile.OpenRead(Path.Combine(directory, CoreFileNames.Key));
            var key = RegularFile.ReadAll(keyFile);
            var encrypted = Path.Combine(directory, record.Vmcore);
            if (OpenCipher(key, privateKey, new FileInfo(encrypted).Length, out var why) is not { } cipher)
            {
                var refused = record with { DecryptionProblem = why };
                DumpReport.Write(refused);
                return new DecryptionResult(DecryptionOutcome.Refused, refused, why);
            }

            using (cipher)
            {
                File.Delete(temporary); // only ever this server's: a leftover of an earlier try
                if (room?.WhyNoRoomFor(directory, new FileInfo(encrypted).Length) is { } noRoom)
                {
                    // a copy written until the disk is full takes the room the dumps being received count on
                    return new DecryptionResult(DecryptionOutcome.Failed, record, noRoom);
                }

                Decipher(encrypted, temporary, cipher, gate, room?.BeforeEachChunk(directory), cancel);
            }

            // decryptcore's output is deterministic: a plain core an earlier, cut-short run put in place is the same
            File.Move(temporary, Path.Combine(directory, plainName), overwrite: true);
            FileSystemSync.FsyncDirectory(directory);
            var decrypted = record with { DecryptedVmcore = plainName };
            DumpReport.Write(decrypted);
            return new DecryptionResult(DecryptionOutcome.Decrypted, decrypted, null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            try
            {
                File.Delete(temporary);
            }
            catch (Exception again) when (again is IOException or UnauthorizedAccessException)
            {
                // the start-up scan removes it
            }

            return new DecryptionResult(DecryptionOutcome.Failed, record, e is OperationCanceledException ? "the server is stopping" : e.Message);
        }
    }

    /// <summary>The cipher the dump's key opens with the private key, or null with why (said for the operator, as decryptcore would).</summary>
    private static EkcdCipher? OpenCipher(byte[] key, RSA privateKey, long coreLength, out string? why)
    {
        if (!EncryptionKeyHeader.TryParse(key, out var header, out var problem))
        {
            why = $"the dump's key is unusable: {problem}";
            return null;
        }

        var modulus = privateKey.KeySize / 8;
        if (modulus != header!.EncryptedKeySize)
        {
            why = $"the private key is not the one this client's dumpon -k used: its RSA modulus is {8 * modulus} bits, the dump's key was wrapped for {8 * header.EncryptedKeySize} bits";
            return null;
        }

        var wrapped = key.AsSpan(EncryptionKeyHeader.HeadSize, (int)header.EncryptedKeySize).ToArray();
        if (EkcdCipher.Unwrap(privateKey, wrapped, out why) is not { } symmetric)
        {
            return null;
        }

        var cipher = EkcdCipher.Create(header.Encryption, symmetric, header.InitializationVector, encrypt: false);
        CryptographicOperations.ZeroMemory(symmetric);
        if (coreLength % cipher.BlockSize != 0)
        {
            cipher.Dispose();
            why = $"the encrypted core is {coreLength} bytes, not whole {cipher.BlockSize}-byte AES blocks (a compressed dump cut to its length mid-block), which decryptcore cannot decrypt either";
            return null;
        }

        return cipher;
    }

    private static void Decipher(string encrypted, string plain, EkcdCipher cipher, PauseGate? gate, Action<long>? beforeChunk, CancellationToken cancel)
    {
        using var input = RegularFile.OpenRead(encrypted);
        CoreLock.Share(input); // in use while it is copied: retention leaves it alone
        using var output = File.OpenHandle(plain, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None, preallocationSize: 0);
        File.SetUnixFileMode(output, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var buffer = new byte[ChunkBytes];
        var length = RandomAccess.GetLength(input);
        long offset = 0;
        int read;
        while ((read = ReadFull(input, buffer, offset)) > 0)
        {
            cancel.ThrowIfCancellationRequested();
            gate?.Pass(cancel);
            beforeChunk?.Invoke(length - offset);
            cipher.Transform(buffer.AsSpan(0, read));
            RandomAccess.Write(output, buffer.AsSpan(0, read), offset);
            offset += read;
        }

        RandomAccess.FlushToDisk(output);
    }

    /// <summary>Fills the buffer unless the file ends first, so every chunk but the last is whole AES blocks.</summary>
    private static int ReadFull(Microsoft.Win32.SafeHandles.SafeFileHandle file, byte[] buffer, long offset)
    {
        var total = 0;
        int read;
        while (total < buffer.Length && (read = RandomAccess.Read(file, buffer.AsSpan(total), offset + total)) > 0)
        {
            total += read;
        }

        return total;
    }
}
