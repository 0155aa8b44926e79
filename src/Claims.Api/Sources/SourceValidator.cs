using Claims.Api.Validation;
using FluentValidation;

namespace Claims.Api.Sources;

public sealed class SourceRequestValidator : AbstractValidator<SourceRequest>
{
    public SourceRequestValidator()
    {
        RuleFor(s => s.Name).RequiredText(200);
        RuleFor(s => s.Kind).RequiredEnum();
        RuleFor(s => s.Description).OptionalText(2000);
        RuleFor(s => s.Url).OptionalHttpUrl();
    }
}
